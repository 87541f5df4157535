// The web server against malformed and hostile requests, over raw loopback sockets (review
// findings 17 and 13): pipelining, request smuggling shapes, RFC 9112 leniencies, limits.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "exporter/http/http_request_head.h"
#include "exporter/http/web_server.h"

namespace mailtls::exporter {
namespace {

// A WebServer on an ephemeral loopback port with two small GET routes and a POST echo.
class StrictServer : public ::testing::Test {
 protected:
  void start(WebServerOptions options = {}, const WebConfig& wc = {}) {
    server_ = std::make_unique<WebServer>(options, wc);
    server_->get("/a", [](const HttpRequest&) { return HttpResponse{200, "text/plain", "first\n", {}}; });
    server_->get("/b", [](const HttpRequest&) { return HttpResponse{200, "text/plain", "second\n", {}}; });
    server_->post("/echo", [](const HttpRequest& r) { return HttpResponse{200, "text/plain", "got " + r.body, {}}; });
    server_->get("/throws", [](const HttpRequest&) -> HttpResponse { throw std::length_error("basic_string::_M_create"); });
    std::string error;
    ASSERT_TRUE(server_->bind(*parse_listen_address("127.0.0.1:0", &error), &error)) << error;
    serving_ = std::thread([this] { server_->serve(); });
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (serving_.joinable()) serving_.join();
  }

  // Sends `request` on a new connection and returns everything read until the server closes
  // the connection or `read_limit_s` passes without data (then `*closed` is false).
  std::string exchange(const std::string& request, bool* closed = nullptr, int read_limit_s = 20) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    timeval tv{read_limit_s, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t sent = 0;
    while (sent < request.size()) {
      const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    std::string out;
    char buf[4096];
    bool eof = false;
    for (;;) {
      const ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n == 0) eof = true;
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    close(fd);
    if (closed) *closed = eof;
    return out;
  }

  static int status_of(const std::string& response) {
    if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return 0;
    return std::stoi(response.substr(9, 3));
  }

  std::unique_ptr<WebServer> server_;
  std::thread serving_;
};

TEST_F(StrictServer, PipelinedRequestsAreAllAnsweredInOrder) {
  start();
  bool closed = false;
  const std::string out = exchange(
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      &closed);
  const size_t first = out.find("first\n"), second = out.find("second\n"), third = out.rfind("first\n");
  ASSERT_NE(first, std::string::npos) << out;
  ASSERT_NE(second, std::string::npos) << out;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_TRUE(closed);
}

TEST_F(StrictServer, ContentLengthWithTransferEncodingIs400AndClosed) {
  start();
  bool closed = false;
  const std::string out = exchange(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n",
      &closed);
  EXPECT_EQ(status_of(out), 400) << out;
  EXPECT_EQ(out.find("first"), std::string::npos) << "the smuggled request was answered: " << out;
  EXPECT_TRUE(closed);
}

TEST_F(StrictServer, SpaceBeforeColonIs400) {
  start();
  EXPECT_EQ(status_of(exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello")), 400);
}

TEST_F(StrictServer, NulInAHeaderValueIs400) {
  start();
  static const char kRequest[] = "GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\nConnection: close\r\n\r\n";
  EXPECT_EQ(status_of(exchange(std::string(kRequest, sizeof kRequest - 1))), 400);
}

TEST_F(StrictServer, ObsFoldIs400) {
  start();
  EXPECT_EQ(status_of(exchange("GET /a HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n")), 400);
}

// 413 as soon as the head is read, not after the body (or a read timeout): the server's read
// deadline is far longer than the client waits here.
TEST_F(StrictServer, OverLimitContentLengthIs413AtOnceAndClosed) {
  WebServerOptions options;
  options.max_body_bytes = 1000;
  options.read_timeout_seconds = 120;
  start(options);
  bool closed = false;
  const std::string out =
      exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n", &closed, 30);
  EXPECT_EQ(status_of(out), 413) << out;
  EXPECT_TRUE(closed);
}

TEST_F(StrictServer, HeadsOverTheLimitAre431AndClosed) {
  WebServerOptions options;
  options.max_header_bytes = 4096;
  start(options);
  std::string flood = "GET /a HTTP/1.1\r\nHost: x\r\n";
  while (flood.size() < 100000) flood += "X-Flood: a\r\n";
  bool closed = false;
  const std::string out = exchange(flood, &closed);
  EXPECT_EQ(status_of(out), 431) << out.substr(0, 200);
  EXPECT_TRUE(closed);
}

// A chunk-size line that never ends is not buffered without bound until the read deadline.
TEST_F(StrictServer, EndlessChunkLineIsCutOff) {
  WebServerOptions options;
  options.read_timeout_seconds = 120;
  start(options);
  std::string request = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=";
  request.append(4 << 20, 'a');
  bool closed = false;
  exchange(request, &closed, 30);
  EXPECT_TRUE(closed);
}

TEST_F(StrictServer, BodiesWithinTheLimitStillArrive) {
  start();
  const std::string out = exchange(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
  EXPECT_EQ(status_of(out), 200) << out;
  EXPECT_NE(out.find("got hello"), std::string::npos) << out;
  const std::string chunked = exchange(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n");
  EXPECT_NE(chunked.find("got hello"), std::string::npos) << chunked;
}

TEST_F(StrictServer, ExpectContinueGetsAnInterimAnswerThenTheFinalOne) {
  start();
  const std::string out = exchange(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n"
      "Connection: close\r\n\r\nhello");
  EXPECT_EQ(out.rfind("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("got hello"), std::string::npos) << out;
}

TEST_F(StrictServer, UnknownPathsAndMethods) {
  start();
  EXPECT_EQ(status_of(exchange("GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")), 404);
  EXPECT_EQ(status_of(exchange("DELETE /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")), 405);
  const std::string head = exchange("HEAD /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_of(head), 200) << head;
  EXPECT_NE(head.find("Content-Length: 6\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("first"), std::string::npos) << head;
}

// Finding 13: "Basic ====" made the decoded length underflow, and cpp-httplib answered the
// exception with 500 and its text in an EXCEPTION_WHAT header.
TEST_F(StrictServer, MalformedBasicCredentialsAre401WithoutExceptionText) {
  WebConfig wc;
  wc.basic_auth_users["prometheus"] = "$2b$10$PFaQ8hTTHFyxZcLXiCYPwuOdjYqmy39m/8eGTz0hi8EbFgCdWtk9W";
  start({}, wc);
  for (const char* auth : {"Basic ====", "Basic =", "Basic ", "Basic !!!!", "Basic Zm9v"}) {
    const std::string out =
        exchange(std::string("GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: ") + auth + "\r\n\r\n");
    EXPECT_EQ(status_of(out), 401) << auth << ": " << out;
    EXPECT_EQ(out.find("EXCEPTION"), std::string::npos) << out;
    EXPECT_EQ(out.find("basic_string"), std::string::npos) << out;
  }
}

TEST_F(StrictServer, HandlerExceptionsAre500WithoutTheirText) {
  start();
  const std::string out = exchange("GET /throws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_of(out), 500) << out;
  EXPECT_EQ(out.find("_M_create"), std::string::npos) << out;
  EXPECT_EQ(out.find("EXCEPTION"), std::string::npos) << out;
}

TEST(RequestHead, Checks) {
  EXPECT_EQ(check_request_head("GET / HTTP/1.1\r\nHost: x\r\nA: b c\r\n\r\n"), "");
  EXPECT_NE(check_request_head("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"), "");
  EXPECT_NE(check_request_head("GET / HTTP/1.1\r\nA : b\r\n\r\n"), "");
  EXPECT_NE(check_request_head("GET / HTTP/1.1\r\nA\t: b\r\n\r\n"), "");
  EXPECT_NE(check_request_head(std::string("GET / HTTP/1.1\r\nA: \0\r\n\r\n", 24)), "");
  EXPECT_NE(check_request_head("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n"), "");
  EXPECT_NE(check_request_head("GET / HTTP/1.1\r\nA: b\nC: d\r\n\r\n"), "");
  EXPECT_NE(check_request_head("GET / HTTP/1.1\r\nnocolon\r\n\r\n"), "");
  EXPECT_EQ(find_request_head_end("GET / HTTP/1.1\r\nA: b\r\n"), std::string_view::npos);
  EXPECT_EQ(find_request_head_end("GET / HTTP/1.1\r\n\r\nbody"), 18u);
}

TEST(RequestHead, Target) {
  std::string path;
  std::multimap<std::string, std::string> params;
  ASSERT_TRUE(parse_request_target("/probe?target=a%2Eexample&module=x+y&flag", &path, &params));
  EXPECT_EQ(path, "/probe");
  EXPECT_EQ(params.find("target")->second, "a.example");
  EXPECT_EQ(params.find("module")->second, "x y");
  EXPECT_EQ(params.count("flag"), 1u);
  EXPECT_FALSE(parse_request_target("/a?x=%4", &path, &params));
  EXPECT_FALSE(parse_request_target("/a%zz", &path, &params));
  EXPECT_FALSE(parse_request_target("http://x/a", &path, &params));
}

}  // namespace
}  // namespace mailtls::exporter
