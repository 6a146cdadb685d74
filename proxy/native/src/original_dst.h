// getOriginalDst(fd): the destination a connection had before an iptables
// REDIRECT sent it to our proxy (transparent proxying).
#pragma once

#include <napi.h>

namespace kdlp {

// getOriginalDst(fd: number) -> { address: string, port: number, family: 4 | 6 }
Napi::Value GetOriginalDst(const Napi::CallbackInfo& info);

}  // namespace kdlp
