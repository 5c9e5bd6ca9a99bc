# The LibTorch-only build's other needs: toml++, nlohmann-json and CLI11, all header-only. A GPU
# host has none of them installed, so FACECYCLE_HEADERS may name a folder holding their Debian
# packages unpacked with `dpkg -x` (scripts/gpu/pack-headers.sh makes one); then only that folder
# is searched, so a rehearsal on a Debian machine uses exactly what travels.
set(FACECYCLE_HEADERS "" CACHE PATH "folder with usr/include/{toml++,nlohmann,CLI} (dpkg -x)")

function(fc_header_target target header)
  if(FACECYCLE_HEADERS)
    find_path(_dir ${header} PATHS ${FACECYCLE_HEADERS}/usr/include NO_DEFAULT_PATH)
  else()
    find_path(_dir ${header})
  endif()
  if(NOT _dir)
    message(FATAL_ERROR "${header} not found (FACECYCLE_HEADERS='${FACECYCLE_HEADERS}'); run "
                        "scripts/gpu/pack-headers.sh on a Debian machine and carry its folder")
  endif()
  add_library(${target} INTERFACE IMPORTED GLOBAL)
  set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${_dir})
  message(STATUS "${target}: ${_dir}/${header}")
  unset(_dir CACHE)
endfunction()

fc_header_target(tomlplusplus::tomlplusplus toml++/toml.h)
# Header-only mode: the compiled libtomlplusplus.so does not travel.
set_property(TARGET tomlplusplus::tomlplusplus PROPERTY INTERFACE_COMPILE_DEFINITIONS
  TOML_HEADER_ONLY=1)
fc_header_target(nlohmann_json::nlohmann_json nlohmann/json.hpp)
fc_header_target(CLI11::CLI11 CLI/CLI.hpp)
