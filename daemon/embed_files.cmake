# cmake -DDIR=... -DOUT=... -P embed_files.cmake: writes a .cpp holding each file of DIR as a
# string (fcd::http::dashboard_assets()), so the daemon serves its dashboard with no runtime path.
file(GLOB files ${DIR}/*)
list(SORT files)
set(body "")
foreach(f ${files})
  get_filename_component(name ${f} NAME)
  file(READ ${f} text)
  string(FIND "${text}" ")fcasset\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${f} contains the raw-string delimiter )fcasset\"")
  endif()
  string(APPEND body "      {\"${name}\", R\"fcasset(${text})fcasset\"},\n")
endforeach()
file(WRITE ${OUT}.new "// Generated from daemon/http/dashboard/ by daemon/embed_files.cmake. Do not edit.
#include \"http/dashboard_assets.h\"

namespace fcd::http {
const std::vector<Asset>& dashboard_assets() {
  static const std::vector<Asset> a{
${body}  };
  return a;
}
}  // namespace fcd::http
")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.new ${OUT})
