#include "database.h"

#include <cstdlib>
#include <string>

#include "args.h"
#include "errors.h"
#include "scratch.h"
#include "stream.h"

namespace kdlp {

namespace {
const char kScratchHint[] = "was the scratch allocated for this database?";
}  // namespace

Napi::Function Database::DefineClass(Napi::Env env, AddonData* data) {
  return ObjectWrap<Database>::DefineClass(
      env, "Database",
      {
          InstanceMethod<&Database::Info>("info", napi_default_method, data),
          InstanceMethod<&Database::Size>("size", napi_default_method, data),
          InstanceMethod<&Database::Serialize>("serialize", napi_default_method, data),
          InstanceMethod<&Database::StreamSize>("streamSize", napi_default_method, data),
          InstanceMethod<&Database::AllocScratch>("allocScratch", napi_default_method, data),
          InstanceMethod<&Database::ScanBlock>("scanBlock", napi_default_method, data),
          InstanceMethod<&Database::OpenStream>("openStream", napi_default_method, data),
      });
}

Database::Database(const Napi::CallbackInfo& info) : ObjectWrap<Database>(info) {
  if (!IsConstructToken(info)) {
    throw Napi::TypeError::New(info.Env(), "Database cannot be constructed directly; use compile()");
  }
}

Napi::Object Database::Create(Napi::Env env, hs_database_t* database, bool streaming) {
  Napi::Object object;
  try {
    object = GetAddonData(env)->databaseConstructor.New({MakeConstructToken(env)});
  } catch (...) {
    hs_free_database(database);
    throw;
  }
  Database* self = Unwrap(object);
  self->database_ = database;
  self->streaming_ = streaming;
  size_t bytes = 0;
  if (hs_database_size(database, &bytes) == HS_SUCCESS) {
    // Tell V8 how big the native side is so large databases get collected.
    self->externalBytes_ = static_cast<int64_t>(bytes);
    Napi::MemoryManagement::AdjustExternalMemory(env, self->externalBytes_);
  }
  return object;
}

Database::~Database() {
  if (database_ != nullptr) hs_free_database(database_);
}

void Database::Finalize(Napi::Env env) {
  if (externalBytes_ != 0) Napi::MemoryManagement::AdjustExternalMemory(env, -externalBytes_);
}

Napi::Value Database::Info(const Napi::CallbackInfo& info) {
  char* text = nullptr;
  hs_error_t rc = hs_database_info(database_, &text);
  if (rc != HS_SUCCESS) throw HsRuntimeError(info.Env(), "hs_database_info", rc);
  std::string copy(text);
  // Allocated with the misc allocator, which we leave at its malloc default.
  std::free(text);
  return Napi::String::New(info.Env(), copy);
}

Napi::Value Database::Size(const Napi::CallbackInfo& info) {
  size_t bytes = 0;
  hs_error_t rc = hs_database_size(database_, &bytes);
  if (rc != HS_SUCCESS) throw HsRuntimeError(info.Env(), "hs_database_size", rc);
  return Napi::Number::New(info.Env(), static_cast<double>(bytes));
}

Napi::Value Database::Serialize(const Napi::CallbackInfo& info) {
  char* bytes = nullptr;
  size_t length = 0;
  hs_error_t rc = hs_serialize_database(database_, &bytes, &length);
  if (rc != HS_SUCCESS) throw HsRuntimeError(info.Env(), "hs_serialize_database", rc);
  // Copy then free (misc allocator, malloc default) before any JS call can throw.
  std::string copy(bytes, length);
  std::free(bytes);
  return Napi::Buffer<char>::Copy(info.Env(), copy.data(), copy.size());
}

Napi::Value Deserialize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) throw Napi::TypeError::New(env, "bytes must be a Uint8Array");
  Napi::Uint8Array view = info[0].As<Napi::Uint8Array>();
  hs_database_t* database = nullptr;
  hs_error_t rc = hs_deserialize_database(reinterpret_cast<const char*>(view.Data()), view.ByteLength(), &database);
  if (rc != HS_SUCCESS) throw HsRuntimeError(env, "hs_deserialize_database", rc);
  char* text = nullptr;
  rc = hs_database_info(database, &text);
  if (rc != HS_SUCCESS) {
    hs_free_database(database);
    throw HsRuntimeError(env, "hs_database_info", rc);
  }
  const bool streaming = std::string(text).find("Mode: STREAM") != std::string::npos;
  std::free(text);
  return Database::Create(env, database, streaming);
}

Napi::Value Database::StreamSize(const Napi::CallbackInfo& info) {
  // Block databases have no stream state; 0 is the honest answer.
  if (!streaming_) return Napi::Number::New(info.Env(), 0);
  size_t bytes = 0;
  hs_error_t rc = hs_stream_size(database_, &bytes);
  if (rc != HS_SUCCESS) throw HsRuntimeError(info.Env(), "hs_stream_size", rc);
  return Napi::Number::New(info.Env(), static_cast<double>(bytes));
}

Napi::Value Database::AllocScratch(const Napi::CallbackInfo& info) {
  hs_scratch_t* scratch = nullptr;
  hs_error_t rc = hs_alloc_scratch(database_, &scratch);
  if (rc != HS_SUCCESS) throw HsRuntimeError(info.Env(), "hs_alloc_scratch", rc);
  return Scratch::Create(info.Env(), scratch);
}

Napi::Value Database::ScanBlock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ByteView input = RequireBytes(env, info[0], "buffer");
  hs_scratch_t* scratch = Scratch::Require(env, info[1], "scratch");
  uint32_t maxMatches = OptionalMaxMatches(env, info[2]);

  MatchCollector& collector = static_cast<AddonData*>(info.Data())->collector;
  collector.Begin(maxMatches);
  if (streaming_) {
    // The whole buffer as one stream: same matches as a block scan (libhs
    // reports end-anchored ones at close), so a process that streams need
    // not also hold a block database.
    hs_stream_t* stream = nullptr;
    hs_error_t rc = hs_open_stream(database_, 0, &stream);
    if (rc != HS_SUCCESS) throw HsRuntimeError(env, "hs_open_stream", rc);
    rc = hs_scan_stream(stream, input.data, input.length, 0, scratch, &MatchCollector::OnMatch, &collector);
    const char* failed = "hs_scan_stream";
    if (rc == HS_SUCCESS) {
      rc = hs_close_stream(stream, scratch, &MatchCollector::OnMatch, &collector);
      failed = "hs_close_stream";
    } else {
      // Frees the stream; after a stopped or failed scan it must not report more.
      hs_close_stream(stream, nullptr, nullptr, nullptr);
    }
    if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) {
      throw HsRuntimeError(env, failed, rc, rc == HS_INVALID ? kScratchHint : "");
    }
    return collector.Finish(env);
  }
  hs_error_t rc = hs_scan(database_, input.data, input.length, 0, scratch,
                          &MatchCollector::OnMatch, &collector);
  if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) {
    throw HsRuntimeError(env, "hs_scan", rc, rc == HS_INVALID ? kScratchHint : "");
  }
  return collector.Finish(env);
}

Napi::Value Database::OpenStream(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!streaming_) {
    throw CodedError(env, kCodeHs, "openStream needs a stream-mode database; this one was compiled for blocks");
  }
  hs_stream_t* stream = nullptr;
  hs_error_t rc = hs_open_stream(database_, 0, &stream);
  if (rc != HS_SUCCESS) throw HsRuntimeError(env, "hs_open_stream", rc);
  return Stream::Create(env, stream, Value(), database_);
}

}  // namespace kdlp
