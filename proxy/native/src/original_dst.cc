#include "original_dst.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <system_error>

#include "args.h"
#include "errors.h"

// Values from <linux/netfilter_ipv4.h> and <linux/netfilter_ipv6/ip6_tables.h>;
// those kernel headers clash with glibc's <netinet/in.h>, and the numbers are
// fixed kernel ABI.
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

namespace kdlp {

namespace {

Napi::Error ErrnoError(Napi::Env env, int fd, const char* syscall, int errorNumber, const char* hint) {
  std::string message = "getOriginalDst(fd " + std::to_string(fd) + "): " + syscall + " failed: " +
                        std::error_code(errorNumber, std::generic_category()).message();
  if (hint != nullptr) message += std::string(" (") + hint + ")";
  Napi::Error error = CodedError(env, kCodeOriginalDst, message);
  error.Set("errno", Napi::Number::New(env, errorNumber));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

bool IsV4Mapped(const sockaddr_storage& local) {
  if (local.ss_family != AF_INET6) return false;
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&local);
  return IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr);
}

}  // namespace

Napi::Value GetOriginalDst(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint32_t rawFd = RequireUint32(env, info[0], "fd");
  if (rawFd > static_cast<uint32_t>(INT_MAX)) throw Napi::TypeError::New(env, "fd is out of range");
  const int fd = static_cast<int>(rawFd);

  sockaddr_storage local{};
  socklen_t localLength = sizeof(local);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &localLength) != 0) {
    throw ErrnoError(env, fd, "getsockname", errno, nullptr);
  }
  // Dual-stack sockets carry IPv4 connections as v4-mapped IPv6; conntrack
  // tracks those as IPv4, so ask the IPv4 table for them.
  const bool ipv4 = local.ss_family == AF_INET || IsV4Mapped(local);
  if (!ipv4 && local.ss_family != AF_INET6) {
    throw ErrnoError(env, fd, "getsockname", EAFNOSUPPORT, "not an IPv4/IPv6 socket");
  }

  sockaddr_storage original{};
  socklen_t originalLength = ipv4 ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  const int level = ipv4 ? SOL_IP : SOL_IPV6;
  const int option = ipv4 ? SO_ORIGINAL_DST : IP6T_SO_ORIGINAL_DST;
  if (getsockopt(fd, level, option, &original, &originalLength) != 0) {
    const int errorNumber = errno;
    throw ErrnoError(env, fd, ipv4 ? "getsockopt(SOL_IP, SO_ORIGINAL_DST)"
                                   : "getsockopt(SOL_IPV6, IP6T_SO_ORIGINAL_DST)",
                     errorNumber, "is the connection redirected by iptables and is conntrack loaded?");
  }

  char text[INET6_ADDRSTRLEN] = {0};
  int port = 0;
  if (ipv4) {
    const auto* address = reinterpret_cast<const sockaddr_in*>(&original);
    inet_ntop(AF_INET, &address->sin_addr, text, sizeof(text));
    port = ntohs(address->sin_port);
  } else {
    const auto* address = reinterpret_cast<const sockaddr_in6*>(&original);
    inet_ntop(AF_INET6, &address->sin6_addr, text, sizeof(text));
    port = ntohs(address->sin6_port);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("address", Napi::String::New(env, text));
  result.Set("port", Napi::Number::New(env, port));
  result.Set("family", Napi::Number::New(env, ipv4 ? 4 : 6));
  return result;
}

}  // namespace kdlp
