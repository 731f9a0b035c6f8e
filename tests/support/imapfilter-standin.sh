#!/bin/sh
# A stand-in for imapfilter in the seed session's test: like the real one it needs the session
# bus (the keyring it asks for its password lives there), and like the one in the seed session
# it dies now and then. It says whom it reached, runs for 0.6 to 0.9 s, and fails.
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] ||
    ! dbus-send --session --dest=org.freedesktop.DBus --type=method_call --print-reply \
        /org/freedesktop/DBus org.freedesktop.DBus.GetId >/dev/null 2>&1; then
    echo "imapfilter: no session bus" >&2
    exit 2
fi
echo "imapfilter: $* connected; bus at $DBUS_SESSION_BUS_ADDRESS"
sleep "0.$(( 6 + $$ % 4 ))"
echo "imapfilter: connection lost" >&2
exit 1
