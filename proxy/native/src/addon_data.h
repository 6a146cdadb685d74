// Per-environment state (one per main thread / worker that loads the addon):
// the class constructors used to create wrapped objects from C++ and the
// reusable match collector. Methods receive it as their callback data, so the
// scan hot path needs no extra lookup.
#pragma once

#include <napi.h>

#include "match_collector.h"

namespace kdlp {

struct AddonData {
  Napi::FunctionReference databaseConstructor;
  Napi::FunctionReference scratchConstructor;
  Napi::FunctionReference streamConstructor;
  MatchCollector collector;
};

inline AddonData* GetAddonData(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

// Wrapped classes are created only from C++: their JS constructors are
// reachable (obj.constructor) but refuse to run without this token.
bool IsConstructToken(const Napi::CallbackInfo& info);
Napi::Value MakeConstructToken(Napi::Env env);

}  // namespace kdlp
