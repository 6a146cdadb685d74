#include "args.h"

#include <cmath>
#include <limits>

namespace kdlp {

namespace {
const char kEmptyInput[1] = {0};
}  // namespace

ByteView RequireBytes(Napi::Env env, Napi::Value value, const char* name) {
  // Raw napi calls: this sits on the per-scan hot path and one
  // napi_get_typedarray_info does what several wrapper calls would.
  bool isTypedArray = false;
  napi_status status = napi_is_typedarray(env, value, &isTypedArray);
  NAPI_THROW_IF_FAILED(env, status, ByteView{});
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0;
  void* data = nullptr;
  if (isTypedArray) {
    status = napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr);
    NAPI_THROW_IF_FAILED(env, status, ByteView{});
  }
  if (!isTypedArray || type != napi_uint8_array) {
    throw Napi::TypeError::New(env, std::string(name) + " must be a Buffer or Uint8Array");
  }
  // hs_scan takes an unsigned int length.
  if (length > std::numeric_limits<unsigned int>::max()) {
    throw Napi::RangeError::New(env, std::string(name) + " is larger than 4 GiB; scan it in chunks");
  }
  if (length == 0 || data == nullptr) return ByteView{kEmptyInput, 0};
  return ByteView{static_cast<const char*>(data), static_cast<unsigned int>(length)};
}

uint32_t RequireUint32(Napi::Env env, Napi::Value value, const std::string& name) {
  if (!value.IsNumber()) {
    throw Napi::TypeError::New(env, name + " must be a non-negative integer");
  }
  double number = value.As<Napi::Number>().DoubleValue();
  if (!(number >= 0) || number > 4294967295.0 || std::floor(number) != number) {
    throw Napi::TypeError::New(env, name + " must be a non-negative integer below 2^32");
  }
  return static_cast<uint32_t>(number);
}

bool HasTypeTag(Napi::Env env, Napi::Value value, const napi_type_tag& tag) {
  if (!value.IsObject()) return false;
  bool result = false;
  napi_status status = napi_check_object_type_tag(env, value, &tag, &result);
  NAPI_THROW_IF_FAILED(env, status, false);
  return result;
}

}  // namespace kdlp
