// Database: a compiled pattern set (block or stream mode). Scanning lives
// here because the database is the receiver libhs needs; matches come back
// as one Float64Array per call (see match_collector.h).
#pragma once

#include <hs.h>
#include <napi.h>

#include "addon_data.h"

namespace kdlp {

class Database : public Napi::ObjectWrap<Database> {
 public:
  static Napi::Function DefineClass(Napi::Env env, AddonData* data);
  // Wraps `database` in a JS object; frees it if wrapping fails.
  static Napi::Object Create(Napi::Env env, hs_database_t* database, bool streaming);

  explicit Database(const Napi::CallbackInfo& info);
  ~Database() override;
  void Finalize(Napi::Env env) override;

 private:
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Size(const Napi::CallbackInfo& info);
  Napi::Value Serialize(const Napi::CallbackInfo& info);
  Napi::Value StreamSize(const Napi::CallbackInfo& info);
  Napi::Value AllocScratch(const Napi::CallbackInfo& info);
  Napi::Value ScanBlock(const Napi::CallbackInfo& info);
  Napi::Value OpenStream(const Napi::CallbackInfo& info);

  hs_database_t* database_ = nullptr;
  bool streaming_ = false;
  int64_t externalBytes_ = 0;
};

// deserialize(bytes): a database from Database.serialize() output; the
// library refuses bytes from another version or platform (HS_DB_VERSION_ERROR,
// HS_DB_PLATFORM_ERROR), thrown as KDLP_HS_ERROR.
Napi::Value Deserialize(const Napi::CallbackInfo& info);

}  // namespace kdlp
