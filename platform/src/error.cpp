#include "axon/platform/error.hpp"

#include <cstring>

namespace axon::platform {

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::WouldBlock: return "WouldBlock";
    case ErrorCode::Interrupted: return "Interrupted";
    case ErrorCode::TimedOut: return "TimedOut";
    case ErrorCode::AlreadyExists: return "AlreadyExists";
    case ErrorCode::DoesNotExist: return "DoesNotExist";
    case ErrorCode::PermissionDenied: return "PermissionDenied";
    case ErrorCode::InsufficientMemory: return "InsufficientMemory";
    case ErrorCode::LimitReached: return "LimitReached";
    case ErrorCode::InvalidArgument: return "InvalidArgument";
    case ErrorCode::NameTooLong: return "NameTooLong";
    case ErrorCode::NoPeer: return "NoPeer";
    case ErrorCode::WrongType: return "WrongType";
    case ErrorCode::Truncated: return "Truncated";
    case ErrorCode::Unknown: return "Unknown";
  }
  return "Unknown";
}

ErrorCode error_code_from_errno(int err) {
  switch (err) {
    case EAGAIN: return ErrorCode::WouldBlock;
    case EINTR: return ErrorCode::Interrupted;
    case ETIMEDOUT: return ErrorCode::TimedOut;
    case EEXIST: return ErrorCode::AlreadyExists;
    case ENOENT: return ErrorCode::DoesNotExist;
    case EACCES:
    case EPERM: return ErrorCode::PermissionDenied;
    case ENOMEM:
    case ENOSPC: return ErrorCode::InsufficientMemory;
    case EMFILE:
    case ENFILE: return ErrorCode::LimitReached;
    case EINVAL: return ErrorCode::InvalidArgument;
    case ENAMETOOLONG: return ErrorCode::NameTooLong;
    case ENXIO:
    case ECONNREFUSED:
    case EPIPE:
    case ECONNRESET: return ErrorCode::NoPeer;
    case ELOOP:
    case ENOTDIR:
    case EISDIR:
    case ENOTSOCK: return ErrorCode::WrongType;
    default: return ErrorCode::Unknown;
  }
}

std::string Error::describe() const {
  std::string out = std::string(call) + ": " + to_string(code);
  if (sys_errno != 0) {
    out += " (";
    out += std::strerror(sys_errno);
    out += ")";
  }
  return out;
}

}  // namespace axon::platform
