#include "stream.h"

#include <string>

#include "args.h"
#include "errors.h"
#include "scratch.h"

namespace kdlp {

namespace {
const char kScratchHint[] = "was the scratch allocated for this stream's database?";
}  // namespace

Napi::Function Stream::DefineClass(Napi::Env env, AddonData* data) {
  return ObjectWrap<Stream>::DefineClass(
      env, "Stream",
      {
          InstanceMethod<&Stream::Scan>("scan", napi_default_method, data),
          InstanceMethod<&Stream::Close>("close", napi_default_method, data),
          InstanceMethod<&Stream::Reset>("reset", napi_default_method, data),
          InstanceAccessor<&Stream::IsClosed>("closed", napi_default, data),
      });
}

Stream::Stream(const Napi::CallbackInfo& info) : ObjectWrap<Stream>(info) {
  if (!IsConstructToken(info)) {
    throw Napi::TypeError::New(info.Env(), "Stream cannot be constructed directly; use db.openStream()");
  }
}

Napi::Object Stream::Create(Napi::Env env, hs_stream_t* stream, Napi::Object databaseObject,
                            const hs_database_t* database) {
  Napi::Object object;
  try {
    object = GetAddonData(env)->streamConstructor.New({MakeConstructToken(env)});
  } catch (...) {
    hs_close_stream(stream, nullptr, nullptr, nullptr);
    throw;
  }
  Stream* self = Unwrap(object);
  self->stream_ = stream;
  self->database_ = Napi::Persistent(databaseObject);
  size_t bytes = 0;
  if (hs_stream_size(database, &bytes) == HS_SUCCESS) {
    self->externalBytes_ = static_cast<int64_t>(bytes);
    Napi::MemoryManagement::AdjustExternalMemory(env, self->externalBytes_);
  }
  return object;
}

Stream::~Stream() {
  // No scratch here, so no end-of-data matches: an unclosed stream only
  // releases its memory. hs_close_stream without a callback never touches
  // the database, so finalization order relative to it does not matter.
  if (stream_ != nullptr) hs_close_stream(stream_, nullptr, nullptr, nullptr);
}

void Stream::Finalize(Napi::Env env) {
  if (externalBytes_ != 0) Napi::MemoryManagement::AdjustExternalMemory(env, -externalBytes_);
}

void Stream::RequireOpen(Napi::Env env, const char* operation) const {
  if (stream_ == nullptr) {
    throw CodedError(env, kCodeStreamClosed,
                     std::string("stream.") + operation + "() called on a closed stream");
  }
}

Napi::Value Stream::Scan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "scan");
  if (terminated_) {
    throw CodedError(env, kCodeStreamTerminated,
                     "stream.scan() called after the match cap stopped this stream; "
                     "its results are incomplete (reset or close it)");
  }
  ByteView input = RequireBytes(env, info[0], "buffer");
  hs_scratch_t* scratch = Scratch::Require(env, info[1], "scratch");
  uint32_t maxMatches = OptionalMaxMatches(env, info[2]);

  MatchCollector& collector = static_cast<AddonData*>(info.Data())->collector;
  collector.Begin(maxMatches);
  hs_error_t rc = hs_scan_stream(stream_, input.data, input.length, 0, scratch,
                                 &MatchCollector::OnMatch, &collector);
  if (rc == HS_SCAN_TERMINATED) {
    terminated_ = true;
  } else if (rc != HS_SUCCESS) {
    throw HsRuntimeError(env, "hs_scan_stream", rc, rc == HS_INVALID ? kScratchHint : "");
  }
  return collector.Finish(env);
}

Napi::Value Stream::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "close");
  hs_scratch_t* scratch = Scratch::Require(env, info[0], "scratch");
  uint32_t maxMatches = OptionalMaxMatches(env, info[1]);

  MatchCollector& collector = static_cast<AddonData*>(info.Data())->collector;
  collector.Begin(maxMatches);
  hs_error_t rc = hs_close_stream(stream_, scratch, &MatchCollector::OnMatch, &collector);
  // On failure libhs has not freed the stream: keep it for a retry or the finalizer.
  if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) {
    throw HsRuntimeError(env, "hs_close_stream", rc, rc == HS_INVALID ? kScratchHint : "");
  }
  stream_ = nullptr;
  database_.Reset();
  if (externalBytes_ != 0) {
    Napi::MemoryManagement::AdjustExternalMemory(env, -externalBytes_);
    externalBytes_ = 0;
  }
  return collector.Finish(env, terminated_);
}

Napi::Value Stream::Reset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "reset");
  hs_scratch_t* scratch = Scratch::Require(env, info[0], "scratch");
  uint32_t maxMatches = OptionalMaxMatches(env, info[1]);

  MatchCollector& collector = static_cast<AddonData*>(info.Data())->collector;
  collector.Begin(maxMatches);
  hs_error_t rc = hs_reset_stream(stream_, 0, scratch, &MatchCollector::OnMatch, &collector);
  if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) {
    throw HsRuntimeError(env, "hs_reset_stream", rc, rc == HS_INVALID ? kScratchHint : "");
  }
  bool wasTerminated = terminated_;
  terminated_ = false;
  return collector.Finish(env, wasTerminated);
}

Napi::Value Stream::IsClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), stream_ == nullptr);
}

}  // namespace kdlp
