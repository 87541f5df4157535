#include "tests/unit/exporter/http_get.h"

#include <httplib.h>

namespace mailtls::testing {
namespace {
HttpReply to_reply(const httplib::Result& r) {
  HttpReply out;
  if (!r) return out;
  out.status = r->status;
  out.content_type = r->get_header_value("Content-Type");
  out.body = r->body;
  return out;
}
}  // namespace

HttpReply http_get(int port, const std::string& path) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(5);
  c.set_read_timeout(10);
  return to_reply(c.Get(path));
}

HttpReply http_post(int port, const std::string& path, const std::string& body,
                    const std::string& content_type) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(5);
  c.set_read_timeout(10);
  return to_reply(c.Post(path, body, content_type));
}

}  // namespace mailtls::testing
