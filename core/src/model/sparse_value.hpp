#pragma once

#include <memory>

namespace tend::model {

// A value that costs one pointer while nothing has been set in it: for the parts of a record
// that most records leave at their defaults. Reading an unset one gives a shared default;
// edit() allocates it. Copies are deep, and two compare by their values, so an allocated value
// still at its defaults equals an unset one.
template <class T>
class SparseValue {
  public:
    SparseValue() = default;
    SparseValue(const SparseValue& other)
        : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
    SparseValue(SparseValue&&) noexcept = default;
    SparseValue& operator=(const SparseValue& other) {
        if (this != &other) {
            value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
        }
        return *this;
    }
    SparseValue& operator=(SparseValue&&) noexcept = default;
    ~SparseValue() = default;

    const T& operator*() const { return value_ ? *value_ : kDefault; }
    const T* operator->() const { return &**this; }
    bool engaged() const { return value_ != nullptr; }
    T& edit() {
        if (!value_) {
            value_ = std::make_unique<T>();
        }
        return *value_;
    }

    friend bool operator==(const SparseValue& a, const SparseValue& b) { return *a == *b; }

  private:
    static inline const T kDefault{};
    std::unique_ptr<T> value_;
};

}  // namespace tend::model
