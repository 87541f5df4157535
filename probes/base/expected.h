#pragma once
// A value or the reason there is none: the subset of C++23 std::expected that this project
// uses, for GCC 12 in C++20 mode. When the compiler has <expected>, this header can become
// `template <class T, class E> using Expected = std::expected<T, E>;` (and Unexpected likewise)
// without touching a caller.
//
//   Expected<Config, std::string> load(...) {
//     if (bad) return Unexpected(std::string("file:3: key: message"));
//     return config;
//   }
//   auto c = load(...);
//   if (!c) log(c.error()); else use(*c);
//
// Failures that a probe observes about a domain are data, so they come back in an Expected (or
// in a result struct that names them); exceptions stay for programming errors. Reading the
// value of an Expected that holds an error, or the error of one that holds a value, is such an
// error and throws BadExpectedAccess.

#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace mailtls {

// The error of an Expected, wrapped so that Expected<std::string, std::string> stays
// unambiguous.
template <class E>
class Unexpected {
 public:
  explicit Unexpected(E error) : error_(std::move(error)) {}
  const E& error() const& { return error_; }
  E& error() & { return error_; }
  E&& error() && { return std::move(error_); }
  bool operator==(const Unexpected&) const = default;

 private:
  E error_;
};

template <class E>
Unexpected(E) -> Unexpected<E>;

template <class X>
inline constexpr bool is_unexpected = false;
template <class E>
inline constexpr bool is_unexpected<Unexpected<E>> = true;

class BadExpectedAccess : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

template <class T, class E>
class [[nodiscard]] Expected {
  static_assert(!std::is_reference_v<T> && !std::is_reference_v<E>);

 public:
  using value_type = T;
  using error_type = E;

  Expected()
    requires std::is_default_constructible_v<T>
      : state_(std::in_place_index<0>) {}
  // From anything T is constructible from (a Config, a string literal for a std::string, ...).
  template <class U = T>
    requires(std::is_constructible_v<T, U> && !std::is_same_v<std::remove_cvref_t<U>, Expected> &&
             !is_unexpected<std::remove_cvref_t<U>>)
  explicit(!std::is_convertible_v<U, T>) Expected(U&& value)
      : state_(std::in_place_index<0>, std::forward<U>(value)) {}
  template <class G>
    requires std::is_constructible_v<E, G>
  Expected(Unexpected<G> error)  // NOLINT: implicit, as std::expected
      : state_(std::in_place_index<1>, E(std::move(error).error())) {}

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  const T& value() const& { return std::get<0>(checked_value()); }
  T& value() & { return std::get<0>(checked_value()); }
  T&& value() && { return std::get<0>(std::move(checked_value())); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  const E& error() const& { return std::get<1>(checked_error()); }
  E& error() & { return std::get<1>(checked_error()); }
  E&& error() && { return std::get<1>(std::move(checked_error())); }

  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(state_) : static_cast<T>(std::forward<U>(fallback));
  }

  bool operator==(const Expected&) const = default;
  // As std::expected: equal to a value when it holds an equal value, to an Unexpected when
  // it holds an equal error.
  template <class U>
    requires(!std::is_same_v<U, Expected> && !is_unexpected<U>)
  friend bool operator==(const Expected& x, const U& v) {
    return x.has_value() && std::get<0>(x.state_) == v;
  }
  template <class G>
  friend bool operator==(const Expected& x, const Unexpected<G>& e) {
    return !x.has_value() && std::get<1>(x.state_) == e.error();
  }

 private:
  std::variant<T, E>& checked_value() {
    if (!has_value()) throw BadExpectedAccess("Expected::value() on an error");
    return state_;
  }
  const std::variant<T, E>& checked_value() const {
    if (!has_value()) throw BadExpectedAccess("Expected::value() on an error");
    return state_;
  }
  std::variant<T, E>& checked_error() {
    if (has_value()) throw BadExpectedAccess("Expected::error() on a value");
    return state_;
  }
  const std::variant<T, E>& checked_error() const {
    if (has_value()) throw BadExpectedAccess("Expected::error() on a value");
    return state_;
  }

  std::variant<T, E> state_;  // index 0: the value, 1: the error (T == E is fine by index)
};

// An operation that yields nothing but may fail: Expected<void, E>.
template <class E>
class [[nodiscard]] Expected<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  Expected() = default;
  template <class G>
    requires std::is_constructible_v<E, G>
  Expected(Unexpected<G> error)  // NOLINT: implicit, as std::expected
      : error_(std::in_place, std::move(error).error()) {}

  bool has_value() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  void value() const {
    if (error_) throw BadExpectedAccess("Expected::value() on an error");
  }

  const E& error() const& { return checked_error(); }
  E& error() & { return checked_error(); }
  E&& error() && { return std::move(checked_error()); }

  bool operator==(const Expected&) const = default;

 private:
  E& checked_error() {
    if (!error_) throw BadExpectedAccess("Expected::error() on a value");
    return *error_;
  }
  const E& checked_error() const {
    if (!error_) throw BadExpectedAccess("Expected::error() on a value");
    return *error_;
  }

  std::optional<E> error_;  // empty: success
};

}  // namespace mailtls
