// One name table per enum. Configs, model cards and messages spell a choice the way its table
// does, so reading and writing cannot drift apart. No torch.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace fc {

// Specialise with `static constexpr std::pair<E, const char*> table[] = {...};` (the first row
// is listed first in messages).
template <typename E>
struct EnumNames;

template <typename E, typename = decltype(EnumNames<E>::table)>
std::string enum_name(E value) {
  for (const auto& [v, name] : EnumNames<E>::table)
    if (v == value) return name;
  return "?";  // unreachable while every enumerator has a row
}

template <typename E>
std::optional<E> enum_from_string(std::string_view name) {
  for (const auto& [v, n] : EnumNames<E>::table)
    if (name == n) return v;
  return std::nullopt;
}

// "a | b | c" for messages.
template <typename E>
std::string enum_choices(std::string_view separator = " | ") {
  std::string out;
  for (const auto& row : EnumNames<E>::table) {
    if (!out.empty()) out += separator;
    out += row.second;
  }
  return out;
}

}  // namespace fc
