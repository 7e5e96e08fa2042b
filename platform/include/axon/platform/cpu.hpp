// What a busy-polling loop tells the CPU.
#pragma once

namespace axon::platform {

/// One round of a spin-wait: lets the sibling hyper-thread run and saves power, and stops the
/// CPU from speculating far ahead on a value that another core is about to change.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield" ::: "memory");
#else
  asm volatile("" ::: "memory");
#endif
}

}  // namespace axon::platform
