console.error("kube-dlp: native Vectorscan addon not built yet");
