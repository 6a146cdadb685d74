// Argument checks shared by the bindings. They throw Napi::TypeError naming
// the offending argument; the TypeScript layer adds friendlier validation on
// top, these exist so that no JS value can reach libhs unchecked.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace kdlp {

// Matches collected per scan call unless the caller passes maxMatches.
constexpr uint32_t kDefaultMaxMatches = 1000000;

// Bytes of a Uint8Array/Buffer, read in place (data already includes the
// view's byteOffset). Never null, even for empty views, because hs_scan
// rejects a null data pointer.
struct ByteView {
  const char* data;
  unsigned int length;
};

ByteView RequireBytes(Napi::Env env, Napi::Value value, const char* name);

// A non-negative integer that fits in uint32.
uint32_t RequireUint32(Napi::Env env, Napi::Value value, const std::string& name);

// Optional maxMatches argument: undefined -> kDefaultMaxMatches.
inline uint32_t OptionalMaxMatches(Napi::Env env, Napi::Value value) {
  if (value.IsUndefined()) return kDefaultMaxMatches;
  return RequireUint32(env, value, "maxMatches");
}

// True when `value` is an object tagged with `tag` by this addon.
bool HasTypeTag(Napi::Env env, Napi::Value value, const napi_type_tag& tag);

}  // namespace kdlp
