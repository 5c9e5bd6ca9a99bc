// facecycle: the command-line client of the facecycled daemon.
#include <iostream>

#include "cli_app.h"

int main(int argc, char** argv) {
  fcc::CliState s;
  auto app = fcc::make_app(s);
  try {
    app->parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app->exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app->exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app->exit(e);
  } catch (const CLI::ParseError& e) {
    app->exit(e);
    return fcc::kExitUsage;
  }

  try {
    return s.action();
  } catch (const fcc::CliError& e) {
    std::cerr << "facecycle: " << e.what() << "\n";
    return e.exit_code;
  } catch (const std::exception& e) {
    std::cerr << "facecycle: " << e.what() << "\n";
    return fcc::kExitError;
  }
}
