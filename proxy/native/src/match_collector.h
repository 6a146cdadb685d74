// Collects matches reported by libhs during one scan call, then hands them
// to JS as a single Float64Array of [id, from, to] triplets. One collector
// per addon instance is reused by every call: scans never call back into JS,
// so calls cannot nest, and reusing the vector avoids a heap allocation per
// scan on the hot path.
#pragma once

#include <hs.h>
#include <napi.h>

#include <cstdint>
#include <vector>

namespace kdlp {

class MatchCollector {
 public:
  // Starts a new call that keeps at most `maxMatches` matches.
  void Begin(uint32_t maxMatches);

  // hs match_event_handler; `context` is the MatchCollector. Returns non-zero
  // (stop scanning) once the cap is exceeded or memory ran out.
  static int OnMatch(unsigned int id, unsigned long long from, unsigned long long to,
                     unsigned int flags, void* context);

  // Matches of this call as a Float64Array; sets `overflow = true` on it when
  // the cap stopped the scan. A complete empty result is one shared, frozen
  // zero-length array: no match is the common case, and allocating an
  // ArrayBuffer costs more than the scan of a small buffer itself. `forceOverflow` marks a result that is known to
  // be incomplete for another reason (a stream terminated earlier). Throws if
  // the collector ran out of memory.
  Napi::Value Finish(Napi::Env env, bool forceOverflow = false);

  bool overflowed() const { return overflow_; }

 private:
  Napi::Value SharedEmpty(Napi::Env env);

  std::vector<double> triplets_;
  Napi::ObjectReference sharedEmpty_;
  size_t maxValues_ = 0;
  bool overflow_ = false;
  bool outOfMemory_ = false;
};

}  // namespace kdlp
