// open_or_create for every pattern: open, and create when there is nothing to open, safe when
// many processes race for the same name.
#pragma once

#include <thread>
#include <tl/expected.hpp>
#include <utility>
#include <variant>

namespace axon::detail {

/// Runs `open()` and, when it fails with DoesNotExist, `create()`, until one of them decides.
/// Open and create each run under the service lock, but not together: another process may
/// create or remove the service between them. Each lap is decided by that process's success, so
/// a few laps suffice; the bound only guards against a pathological create/remove loop.
template <typename Open, typename Create>
auto open_or_create(Open&& open, Create&& create) {
  using Opened = decltype(open());
  using Created = decltype(create());
  using OpenError = typename Opened::error_type;
  using CreateError = typename Created::error_type;
  using Result = tl::expected<typename Opened::value_type, std::variant<OpenError, CreateError>>;
  constexpr int kAttempts = 100;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto opened = open();
    if (opened) return Result(std::move(*opened));
    if (opened.error() != OpenError::DoesNotExist) return Result(tl::unexpect, opened.error());
    auto created = create();
    if (created) return Result(std::move(*created));
    if (created.error() != CreateError::AlreadyExists) {
      return Result(tl::unexpect, created.error());
    }
    std::this_thread::yield();
  }
  return Result(tl::unexpect, OpenError::InternalFailure);
}

}  // namespace axon::detail
