#include "match_collector.h"

#include <cstring>
#include <new>

#include "errors.h"

namespace kdlp {

namespace {
// Capacity kept between calls; a call with a huge result gives memory back.
constexpr size_t kRetainedCapacity = 3 * 65536;
}  // namespace

void MatchCollector::Begin(uint32_t maxMatches) {
  triplets_.clear();
  maxValues_ = static_cast<size_t>(maxMatches) * 3;
  overflow_ = false;
  outOfMemory_ = false;
}

int MatchCollector::OnMatch(unsigned int id, unsigned long long from, unsigned long long to,
                            unsigned int /*flags*/, void* context) {
  auto* self = static_cast<MatchCollector*>(context);
  if (self->triplets_.size() >= self->maxValues_) {
    self->overflow_ = true;
    return 1;
  }
  // Called from libhs (C): no exception may escape.
  try {
    self->triplets_.push_back(static_cast<double>(id));
    self->triplets_.push_back(static_cast<double>(from));
    self->triplets_.push_back(static_cast<double>(to));
  } catch (const std::bad_alloc&) {
    self->outOfMemory_ = true;
    return 1;
  }
  return 0;
}

Napi::Value MatchCollector::Finish(Napi::Env env, bool forceOverflow) {
  if (outOfMemory_) {
    triplets_.clear();
    triplets_.shrink_to_fit();
    throw CodedError(env, kCodeAlloc, "out of memory while collecting matches");
  }
  const bool incomplete = overflow_ || forceOverflow;
  const size_t count = triplets_.size();
  if (count == 0 && !incomplete) return SharedEmpty(env);
  const size_t bytes = count * sizeof(double);
  void* data = nullptr;
  napi_value arrayBuffer;
  napi_status status = napi_create_arraybuffer(env, bytes, &data, &arrayBuffer);
  NAPI_THROW_IF_FAILED(env, status, Napi::Value());
  if (bytes != 0) std::memcpy(data, triplets_.data(), bytes);
  napi_value typedArray;
  status = napi_create_typedarray(env, napi_float64_array, count, arrayBuffer, 0, &typedArray);
  NAPI_THROW_IF_FAILED(env, status, Napi::Value());

  if (triplets_.capacity() > kRetainedCapacity) {
    std::vector<double>().swap(triplets_);
  }
  Napi::Value result(env, typedArray);
  if (incomplete) {
    result.As<Napi::Object>().Set("overflow", Napi::Boolean::New(env, true));
  }
  return result;
}

Napi::Value MatchCollector::SharedEmpty(Napi::Env env) {
  if (sharedEmpty_.IsEmpty()) {
    Napi::Object empty = Napi::Float64Array::New(env, 0);
    // Frozen so that no caller can attach properties that others would see.
    empty.Freeze();
    sharedEmpty_ = Napi::Persistent(empty);
  }
  return sharedEmpty_.Value();
}

}  // namespace kdlp
