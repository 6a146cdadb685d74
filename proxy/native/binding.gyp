# Builds kube_dlp_hs.node: a thin N-API binding over the system Vectorscan /
# Hyperscan library (public hs.h API only, so Intel's libhyperscan-dev works
# too). Run by package.json's install script; see report-build-failure.js for
# what happens when the library or toolchain is missing.
{
  "targets": [
    {
      "target_name": "kube_dlp_hs",
      "sources": [
        "src/addon.cc",
        "src/args.cc",
        "src/compile.cc",
        "src/database.cc",
        "src/errors.cc",
        "src/match_collector.cc",
        "src/original_dst.cc",
        "src/scratch.cc",
        "src/stream.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-O2",
        "-Wall",
        "-Wextra",
        "<!@(pkg-config --cflags libhs)"
      ],
      "libraries": [
        "<!@(pkg-config --libs libhs)"
      ],
      "conditions": [
        ["OS=='mac'", {
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "OTHER_CPLUSPLUSFLAGS": ["<!@(pkg-config --cflags libhs)"]
          }
        }]
      ]
    }
  ]
}
