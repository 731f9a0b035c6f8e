# Starts tend, the session manager, for this X session. Sourced, not run:
#   - by /etc/X11/Xsession (installed there as Xsession.d/85tend by the package), or
#   - from ~/.xsession or ~/.xinitrc, before the line that starts the desktop:
#         . /usr/share/tend/xsession.sh
#         exec x-window-manager
# The shell that sources it goes on to become the desktop (exec), so its pid is the session's
# leader: tend ends the session, with desktop-end and session-end, when that process exits or
# the X server goes away. There is one tend per user and display, each with a socket of its own.
# TEND_SESSION (this display's control socket) is exported to the rest of the
# session, so tendctl in a terminal finds this tend. A session that has a tend already (a
# nested Xsession, a systemd --user unit) is left as it is.
if [ -z "${TEND_SESSION:-}" ] && [ -n "${XDG_RUNTIME_DIR:-}" ] && command -v tend >/dev/null 2>&1; then
    if tend --exit-with "$$"; then
        TEND_SESSION=$(tend --print-socket)
        export TEND_SESSION
    else
        echo "xsession: tend did not start; the session runs without it" >&2
    fi
fi
