// A C++ host's use of the installed API (plugin/plugin_api.h) on exported
// programs, for export_rewrite_test.py to compare with the command line:
//   plugin_api_main names PROGRAM.pt2 [FLAGS]
//   plugin_api_main rewrite PROGRAM.pt2 OUTPUT.pt2 FLAGS
#include <cstdio>
#include <string>

#include "plugin/plugin_api.h"

int main(int argc, char** argv) {
  const std::string command = argc > 2 ? argv[1] : "";
  try {
    if (command == "names" && argc <= 4) {
      for (const std::string& name : featx::plugin::ProgramNodeNames(argv[2], argc == 4 ? argv[3] : "")) {
        std::printf("%s\n", name.c_str());
      }
      return 0;
    }
    if (command == "rewrite" && argc == 5) {
      featx::plugin::RewriteProgram(argv[2], argv[3], argv[4]);
      return 0;
    }
  } catch (const featx::plugin::Error& e) {
    std::fprintf(stderr, "plugin_api_main: %s (code %d)\n", e.what(), e.code());
    return 2;
  }
  std::fprintf(stderr, "usage: plugin_api_main names PROGRAM.pt2 [FLAGS] | rewrite PROGRAM.pt2 OUTPUT.pt2 FLAGS\n");
  return 2;
}
