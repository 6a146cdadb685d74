// Scratch: the per-thread working memory hs_scan needs. Wrapped so JS owns
// its lifetime; freed by the GC finalizer.
#pragma once

#include <hs.h>
#include <napi.h>

#include "addon_data.h"

namespace kdlp {

class Scratch : public Napi::ObjectWrap<Scratch> {
 public:
  static Napi::Function DefineClass(Napi::Env env, AddonData* data);
  // Wraps `scratch` in a JS object; frees it if wrapping fails.
  static Napi::Object Create(Napi::Env env, hs_scratch_t* scratch);
  // The scratch behind argument `value`, or a TypeError naming `name`.
  static hs_scratch_t* Require(Napi::Env env, Napi::Value value, const char* name);

  explicit Scratch(const Napi::CallbackInfo& info);
  ~Scratch() override;
  void Finalize(Napi::Env env) override;

 private:
  Napi::Value Clone(const Napi::CallbackInfo& info);
  Napi::Value Size(const Napi::CallbackInfo& info);

  hs_scratch_t* scratch_ = nullptr;
  int64_t externalBytes_ = 0;
};

}  // namespace kdlp
