# cmake -DSCHEMA_DIR=... -DOUT=... [-DFUNC=name] -P embed_schema.cmake: writes a .cpp holding
# every schema/NNNN_name.sql as a string, so the daemon needs no runtime path to its migrations.
# FUNC names the function that returns them (SQLite's embedded_migrations by default; the
# PostgreSQL store's come from schema/postgresql/ as embedded_postgres_migrations).
if(NOT FUNC)
  set(FUNC embedded_migrations)
endif()
file(GLOB sql_files ${SCHEMA_DIR}/[0-9][0-9][0-9][0-9]_*.sql)
list(SORT sql_files)
set(body "")
foreach(f ${sql_files})
  get_filename_component(name ${f} NAME)
  string(SUBSTRING ${name} 0 4 num)
  math(EXPR version "${num}")
  file(READ ${f} sql)
  string(APPEND body "      {${version}, \"${name}\", R\"fcsql(${sql})fcsql\"},\n")
endforeach()
file(WRITE ${OUT}.new "// Generated from ${SCHEMA_DIR}/*.sql by daemon/embed_schema.cmake. Do not edit.
#include \"store/migrations.h\"

namespace fcd {
const std::vector<Migration>& ${FUNC}() {
  static const std::vector<Migration> m{
${body}  };
  return m;
}
}  // namespace fcd
")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.new ${OUT})
