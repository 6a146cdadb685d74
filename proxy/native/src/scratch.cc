#include "scratch.h"

#include "args.h"
#include "errors.h"

namespace kdlp {

namespace {
constexpr napi_type_tag kScratchTag = {0x6b646c7068735f73ULL, 0x6372617463680001ULL};
}  // namespace

Napi::Function Scratch::DefineClass(Napi::Env env, AddonData* data) {
  return ObjectWrap<Scratch>::DefineClass(
      env, "Scratch",
      {
          InstanceMethod<&Scratch::Clone>("clone", napi_default_method, data),
          InstanceMethod<&Scratch::Size>("size", napi_default_method, data),
      });
}

Scratch::Scratch(const Napi::CallbackInfo& info) : ObjectWrap<Scratch>(info) {
  if (!IsConstructToken(info)) {
    throw Napi::TypeError::New(info.Env(), "Scratch cannot be constructed directly; use db.allocScratch()");
  }
  napi_status status = napi_type_tag_object(info.Env(), info.This(), &kScratchTag);
  NAPI_THROW_IF_FAILED_VOID(info.Env(), status);
}

Napi::Object Scratch::Create(Napi::Env env, hs_scratch_t* scratch) {
  Napi::Object object;
  try {
    object = GetAddonData(env)->scratchConstructor.New({MakeConstructToken(env)});
  } catch (...) {
    hs_free_scratch(scratch);
    throw;
  }
  Scratch* self = Unwrap(object);
  self->scratch_ = scratch;
  size_t bytes = 0;
  if (hs_scratch_size(scratch, &bytes) == HS_SUCCESS) {
    self->externalBytes_ = static_cast<int64_t>(bytes);
    Napi::MemoryManagement::AdjustExternalMemory(env, self->externalBytes_);
  }
  return object;
}

hs_scratch_t* Scratch::Require(Napi::Env env, Napi::Value value, const char* name) {
  if (!HasTypeTag(env, value, kScratchTag)) {
    throw Napi::TypeError::New(env, std::string(name) + " must be a Scratch from db.allocScratch()");
  }
  return Unwrap(value.As<Napi::Object>())->scratch_;
}

Scratch::~Scratch() {
  if (scratch_ != nullptr) hs_free_scratch(scratch_);
}

void Scratch::Finalize(Napi::Env env) {
  if (externalBytes_ != 0) Napi::MemoryManagement::AdjustExternalMemory(env, -externalBytes_);
}

Napi::Value Scratch::Clone(const Napi::CallbackInfo& info) {
  hs_scratch_t* copy = nullptr;
  hs_error_t rc = hs_clone_scratch(scratch_, &copy);
  if (rc != HS_SUCCESS) throw HsRuntimeError(info.Env(), "hs_clone_scratch", rc);
  return Create(info.Env(), copy);
}

Napi::Value Scratch::Size(const Napi::CallbackInfo& info) {
  size_t bytes = 0;
  hs_error_t rc = hs_scratch_size(scratch_, &bytes);
  if (rc != HS_SUCCESS) throw HsRuntimeError(info.Env(), "hs_scratch_size", rc);
  return Napi::Number::New(info.Env(), static_cast<double>(bytes));
}

}  // namespace kdlp
