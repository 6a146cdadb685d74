// Module entry: registers the classes and free functions of kube_dlp_hs.node.
// The addon is deliberately thin; defaults, option validation and friendly
// errors live in proxy/native/index.ts.
#include <hs.h>
#include <napi.h>
#include <v8.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "addon_data.h"
#include "compile.h"
#include "database.h"
#include "original_dst.h"
#include "scratch.h"
#include "stream.h"

namespace kdlp {

namespace {

// Its address is the token; JS can never obtain an External pointing at it.
char constructTokenTarget = 0;

Napi::Value Version(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), hs_version());
}

// The pattern compiler allocates hundreds of MiB-seconds of short-lived
// graphs; glibc keeps the freed pages mapped (fragmented heap, per-thread
// arenas of the compile worker), so after a compile the process's RSS stays
// ~40 MiB above what the database needs. malloc_trim hands them back. Not
// glibc (musl, macOS): nothing to do, and the caller is told so.
Napi::Value ReleaseFreeMemory(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  return Napi::Boolean::New(info.Env(), malloc_trim(0) != 0);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

// V8 collects when allocation needs it, and the launcher starts the old
// generation at 48 MiB so that start-up and bursts are not slowed by early
// collections. The price: what loading left behind (the profile document,
// the compiled-database bundle and its decompressed copy) and what a burst
// left behind stay resident for as long as the pod is idle, on pages V8
// keeps. LowMemoryNotification is V8's own "collect everything, compact,
// and give emptied pages back" request; N-API has no equivalent, so this
// one call reaches V8 directly (the addon is built against the running
// node's headers). Only called when the proxy is idle: it is a full pause.
Napi::Value CompactJsHeap(const Napi::CallbackInfo& info) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate != nullptr) isolate->LowMemoryNotification();
  return info.Env().Undefined();
}

Napi::Value PlatformValid(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), hs_valid_platform() == HS_SUCCESS);
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  data->databaseConstructor = Napi::Persistent(Database::DefineClass(env, data));
  data->scratchConstructor = Napi::Persistent(Scratch::DefineClass(env, data));
  data->streamConstructor = Napi::Persistent(Stream::DefineClass(env, data));

  exports.Set("compile", Napi::Function::New(env, Compile, "compile"));
  exports.Set("compileAsync", Napi::Function::New(env, CompileAsync, "compileAsync"));
  exports.Set("expressionInfo", Napi::Function::New(env, ExpressionInfo, "expressionInfo"));
  exports.Set("getOriginalDst", Napi::Function::New(env, GetOriginalDst, "getOriginalDst"));
  exports.Set("version", Napi::Function::New(env, Version, "version"));
  exports.Set("platformValid", Napi::Function::New(env, PlatformValid, "platformValid"));
  exports.Set("deserialize", Napi::Function::New(env, Deserialize, "deserialize"));
  exports.Set("releaseFreeMemory", Napi::Function::New(env, ReleaseFreeMemory, "releaseFreeMemory"));
  exports.Set("compactJsHeap", Napi::Function::New(env, CompactJsHeap, "compactJsHeap"));
  return exports;
}

bool IsConstructToken(const Napi::CallbackInfo& info) {
  return info.Length() == 1 && info[0].IsExternal() &&
         info[0].As<Napi::External<char>>().Data() == &constructTokenTarget;
}

Napi::Value MakeConstructToken(Napi::Env env) {
  return Napi::External<char>::New(env, &constructTokenTarget);
}

}  // namespace kdlp

static Napi::Object InitKubeDlpHs(Napi::Env env, Napi::Object exports) {
  return kdlp::Init(env, exports);
}

NODE_API_MODULE(kube_dlp_hs, InitKubeDlpHs)
