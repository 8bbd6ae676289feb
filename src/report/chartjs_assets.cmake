# Chart.js for `hcpsim sweep --report`, embedded into the binary at build time
# so that the report opens with no network. Debian: libjs-chart.js (Chart.js 3.x,
# MIT); another copy can be named with -DHCPSIM_CHARTJS=/path/to/chart.min.js.
find_file(HCPSIM_CHARTJS chart.min.js PATHS /usr/share/javascript/chart.js NO_DEFAULT_PATH
          DOC "Chart.js UMD bundle embedded in HTML reports")
set(HCPSIM_CHARTJS_CHUNKS "")
if(HCPSIM_CHARTJS)
  file(READ ${HCPSIM_CHARTJS} chartjs_text)
  string(LENGTH "${chartjs_text}" chartjs_length)
  # Adjacent raw literals of at most 16 KiB each (compilers guarantee 64 KiB per literal).
  set(offset 0)
  while(offset LESS chartjs_length)
    string(SUBSTRING "${chartjs_text}" ${offset} 16384 chunk)
    string(APPEND HCPSIM_CHARTJS_CHUNKS "R\"hcpsimjs(${chunk})hcpsimjs\"\n")
    math(EXPR offset "${offset} + 16384")
  endwhile()
  set(HCPSIM_HAVE_CHARTJS 1)
  message(STATUS "hcpsim: HTML reports embed ${HCPSIM_CHARTJS}")
else()
  set(HCPSIM_CHARTJS_CHUNKS "\"\"")
  set(HCPSIM_HAVE_CHARTJS 0)
  message(STATUS "hcpsim: chart.min.js not found (apt install libjs-chart.js) - sweep --report is disabled")
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/chartjs.cpp.in)
configure_file(${CMAKE_CURRENT_LIST_DIR}/chartjs.cpp.in ${CMAKE_CURRENT_BINARY_DIR}/chartjs.cpp @ONLY)
target_sources(hcpsim_report PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/chartjs.cpp)
