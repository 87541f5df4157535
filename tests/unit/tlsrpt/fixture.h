#pragma once
// Reads a file from tests/data/tlsrpt/ as bytes.

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace mailtls::tlsrpt::testing {

inline std::string read_fixture(const std::string& name) {
  const std::string path = std::string(MAILTLS_SOURCE_DIR) + "/tests/data/tlsrpt/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open fixture " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace mailtls::tlsrpt::testing
