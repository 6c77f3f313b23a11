// Greedy NMS on the CPU with results identical to mmcv 2.1's CPU kernel
// (mmcv/ops/csrc/pytorch/cpu/nms.cpp), which was 17-25 % of a demo
// Faster R-CNN training step: for every kept box it walks the later boxes
// through the score order (an indirect load per coordinate) and branches
// on each one's state, so the compiler cannot vectorise the loop.
//
// What is kept, so that every decision comes out the same:
//   * the areas, (x2 - x1 + offset) * (y2 - y1 + offset), and the order,
//     scores.sort(0, descending), by the same ATen calls;
//   * every IoU by the same float expressions in the same order; a box is
//     suppressed by a kept box of higher rank when their IoU > threshold.
// What changes: the boxes are copied once into score order, so the inner
// loop reads contiguous arrays; it computes the IoU of every later box
// (also of one already suppressed, whose state an AND leaves unchanged)
// without a branch, so it vectorises -- built for AVX-512, AVX2 and the
// baseline, chosen at run time (GCC's target_clones); a long inner loop is
// split between two threads when torch has two or more (each later box is
// written by one thread).
// Compile without floating-point contraction (-ffp-contract=off).
#include <ATen/Parallel.h>
#include <torch/extension.h>

#include <algorithm>
#include <vector>

namespace {

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define MMKD_MULTIVERSION \
  __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MMKD_MULTIVERSION
#endif

// keep[j] &= !(IoU(box i, box j) > threshold) for j in [begin, end): box i
// given by its coordinates and area, the others in score order.
MMKD_MULTIVERSION
void suppress(const float* x1, const float* y1, const float* x2,
              const float* y2, const float* areas, unsigned char* keep,
              int64_t begin, int64_t end, float ix1, float iy1, float ix2,
              float iy2, float iarea, int offset, float iou_threshold) {
  for (int64_t j = begin; j < end; ++j) {
    const float xx1 = std::max(ix1, x1[j]);
    const float yy1 = std::max(iy1, y1[j]);
    const float xx2 = std::min(ix2, x2[j]);
    const float yy2 = std::min(iy2, y2[j]);
    const float w = std::max(0.f, xx2 - xx1 + offset);
    const float h = std::max(0.f, yy2 - yy1 + offset);
    const float inter = w * h;
    const float ovr = inter / (iarea + areas[j] - inter);
    keep[j] &= static_cast<unsigned char>(!(ovr > iou_threshold));
  }
}

// later boxes above which a kept box's loop is split between two threads
constexpr int64_t kSplit = 4096;

}  // namespace

at::Tensor nms(const at::Tensor& boxes, const at::Tensor& scores,
               double iou_threshold_, int64_t offset_) {
  TORCH_CHECK(boxes.device().is_cpu() && scores.device().is_cpu(),
              "nms: boxes and scores must be CPU tensors");
  TORCH_CHECK(boxes.scalar_type() == at::kFloat &&
                  scores.scalar_type() == at::kFloat,
              "nms: boxes and scores must be float32");
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4,
              "nms: boxes must be (N, 4), got ", boxes.sizes());
  TORCH_CHECK(scores.dim() == 1 && scores.size(0) == boxes.size(0),
              "nms: scores must be (N,) with N = ", boxes.size(0));
  if (boxes.numel() == 0) {
    return at::empty({0}, boxes.options().dtype(at::kLong));
  }
  // mmcv's kernel takes a float threshold and an int offset
  const float iou_threshold = static_cast<float>(iou_threshold_);
  const int offset = static_cast<int>(offset_);
  auto x1_t = boxes.select(1, 0).contiguous();
  auto y1_t = boxes.select(1, 1).contiguous();
  auto x2_t = boxes.select(1, 2).contiguous();
  auto y2_t = boxes.select(1, 3).contiguous();
  at::Tensor areas_t = (x2_t - x1_t + offset) * (y2_t - y1_t + offset);
  auto order_t = std::get<1>(scores.sort(0, /*descending=*/true));

  const int64_t n = boxes.size(0);
  const int64_t* order = order_t.data_ptr<int64_t>();
  const float* src[5] = {x1_t.data_ptr<float>(), y1_t.data_ptr<float>(),
                         x2_t.data_ptr<float>(), y2_t.data_ptr<float>(),
                         areas_t.data_ptr<float>()};
  // the coordinates and areas in score order: sorted[c][k] of box order[k]
  std::vector<float> sorted(5 * n);
  for (int c = 0; c < 5; ++c) {
    float* dst = sorted.data() + c * n;
    for (int64_t k = 0; k < n; ++k) dst[k] = src[c][order[k]];
  }
  const float* x1 = sorted.data();
  const float* y1 = x1 + n;
  const float* x2 = y1 + n;
  const float* y2 = x2 + n;
  const float* areas = y2 + n;

  // torch's thread count (OMP_NUM_THREADS): one thread, no split
  const bool two_threads = at::get_num_threads() > 1;
  // the kept flags, in rank order, written in place as bytes (0 / 1)
  at::Tensor select_t = at::ones({n}, boxes.options().dtype(at::kBool));
  unsigned char* k = reinterpret_cast<unsigned char*>(select_t.data_ptr<bool>());
  for (int64_t i = 0; i < n; ++i) {
    if (!k[i]) continue;
    const int64_t rest = n - i - 1;
    if (rest > kSplit && two_threads) {
      const int64_t mid = i + 1 + rest / 2;
#pragma omp parallel for num_threads(2) schedule(static)
      for (int half = 0; half < 2; ++half) {
        suppress(x1, y1, x2, y2, areas, k, half ? mid : i + 1,
                 half ? n : mid, x1[i], y1[i], x2[i], y2[i], areas[i],
                 offset, iou_threshold);
      }
    } else {
      suppress(x1, y1, x2, y2, areas, k, i + 1, n, x1[i], y1[i], x2[i],
               y2[i], areas[i], offset, iou_threshold);
    }
  }
  return order_t.masked_select(select_t);
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("nms", &nms, "greedy NMS (float32, CPU), mmcv's results",
        py::arg("boxes"), py::arg("scores"), py::arg("iou_threshold"),
        py::arg("offset") = 0);
}
