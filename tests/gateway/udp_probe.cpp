// axon_test_udp_probe: the two ends of a UDP datagram, run inside the namespaces of a NetnsPair
// by netns_test.cpp to prove the link carries (and, when down, does not carry) traffic.
//   axon_test_udp_probe recv PORT              prints "ready", then "got TEXT" per datagram,
//                                              until killed
//   axon_test_udp_probe send ADDRESS PORT TEXT sends TEXT once; exits 0 when sendto succeeded,
//                                              1 (with the error) when it did not
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int usage() {
  std::fprintf(
      stderr,
      "usage: axon_test_udp_probe recv PORT | axon_test_udp_probe send ADDRESS PORT TEXT\n");
  return 2;
}

sockaddr_in address_of(const char* ip, const char* port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(port)));
  if (ip == nullptr) {
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
  } else if (::inet_pton(AF_INET, ip, &addr.sin_addr) != 1) {
    std::fprintf(stderr, "bad address %s\n", ip);
    std::exit(2);
  }
  return addr;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // the test reads lines as they come
  if (argc < 2) return usage();
  const std::string mode = argv[1];
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::fprintf(stderr, "socket: %s\n", std::strerror(errno));
    return 1;
  }
  if (mode == "recv" && argc == 3) {
    const auto addr = address_of(nullptr, argv[2]);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
      std::fprintf(stderr, "bind: %s\n", std::strerror(errno));
      return 1;
    }
    std::printf("ready\n");
    char buf[1500];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        std::fprintf(stderr, "recv: %s\n", std::strerror(errno));
        return 1;
      }
      std::printf("got %.*s\n", static_cast<int>(n), buf);
    }
  }
  if (mode == "send" && argc == 5) {
    const auto addr = address_of(argv[2], argv[3]);
    const std::string text = argv[4];
    if (::sendto(fd, text.data(), text.size(), 0, reinterpret_cast<const sockaddr*>(&addr),
                 sizeof(addr)) < 0) {
      std::printf("sendto: %s\n", std::strerror(errno));
      return 1;
    }
    std::printf("sent\n");
    return 0;
  }
  return usage();
}
