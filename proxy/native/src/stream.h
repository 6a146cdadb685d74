// Stream: the state of one streaming scan (e.g. one HTTP body). Holds a
// strong reference to its Database, whose bytecode the stream state points
// into, so the database cannot be collected while the stream is open.
#pragma once

#include <hs.h>
#include <napi.h>

#include "addon_data.h"

namespace kdlp {

class Stream : public Napi::ObjectWrap<Stream> {
 public:
  static Napi::Function DefineClass(Napi::Env env, AddonData* data);
  // Wraps `stream`; closes it (without matches) if wrapping fails.
  static Napi::Object Create(Napi::Env env, hs_stream_t* stream, Napi::Object databaseObject,
                             const hs_database_t* database);

  explicit Stream(const Napi::CallbackInfo& info);
  ~Stream() override;
  void Finalize(Napi::Env env) override;

 private:
  Napi::Value Scan(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Reset(const Napi::CallbackInfo& info);
  Napi::Value IsClosed(const Napi::CallbackInfo& info);

  void RequireOpen(Napi::Env env, const char* operation) const;

  hs_stream_t* stream_ = nullptr;
  Napi::ObjectReference database_;
  // Set once the match cap stopped a scan: libhs then ignores further data,
  // so more scans would silently miss matches.
  bool terminated_ = false;
  int64_t externalBytes_ = 0;
};

}  // namespace kdlp
