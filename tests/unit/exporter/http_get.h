#pragma once
// A tiny blocking HTTP client for tests (cpp-httplib), kept out of the code under test.

#include <string>

namespace mailtls::testing {

struct HttpReply {
  int status = 0;  // 0: no reply
  std::string content_type;
  std::string body;
};

HttpReply http_get(int port, const std::string& path);
HttpReply http_post(int port, const std::string& path, const std::string& body,
                    const std::string& content_type);

}  // namespace mailtls::testing
