// RoIAlign (average pooling) on the CPU, multi-threaded, with results
// bit-identical to mmcv 2.1's CPU kernel (mmcv/ops/csrc/pytorch/cpu/
// roi_align.cpp), which runs on one thread and, in the backward pass,
// recomputes every sampling point's bilinear weights once per channel.
//
// What is kept, so that every float comes out the same:
//   * each sampling point's coordinates, clamping and bilinear weights are
//     computed with the same expressions, in the same types and order;
//   * forward: an output bin sums its sampling points in the same order
//     (iy, then ix; each point w1*v1 + w2*v2 + w3*v3 + w4*v4) and divides
//     by max(grid_h * grid_w, 1);
//   * backward: every input gradient element receives its contributions in
//     mmcv's order (RoI, then bin ph, pw, then sampling point iy, ix, then
//     corner 1..4), each contribution computed as grad * w / count.
// What changes: the forward pass runs its RoIs in parallel (each output
// element is written by one thread); the backward pass computes each RoI's
// sampling points once (in parallel over RoIs) and then accumulates in
// parallel over channels (a channel's gradient plane is written only by
// its thread, which walks the RoIs in order), a chunk of RoIs at a time.
// Compile without floating-point contraction (-ffp-contract=off) so that no
// a * b + c becomes an FMA.
#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace {

struct Roi {
  int batch;
  float start_h, start_w, bin_h, bin_w;
  int grid_h, grid_w;
};

// One bilinear sampling point: its four neighbours and their weights.
// `inside` is false for a point outside the feature map (no contribution).
struct Point {
  int pos1, pos2, pos3, pos4;
  float w1, w2, w3, w4;
  bool inside;
};

Roi roi_geometry(const float* roi, int64_t num_images, float spatial_scale,
                 bool aligned, int pooled_h, int pooled_w,
                 int sampling_ratio) {
  Roi r;
  r.batch = roi[0];
  // mmcv reads out of bounds here; a clear error instead
  TORCH_CHECK(r.batch >= 0 && r.batch < num_images, "RoIAlign: a RoI's ",
              "image index is ", roi[0], ", the features have ", num_images,
              " images");
  float offset = aligned ? (float)0.5 : (float)0.0;
  float start_w = roi[1] * spatial_scale - offset;
  float start_h = roi[2] * spatial_scale - offset;
  float end_w = roi[3] * spatial_scale - offset;
  float end_h = roi[4] * spatial_scale - offset;
  float width = end_w - start_w;
  float height = end_h - start_h;
  if (aligned) {
    TORCH_CHECK(width >= 0 && height >= 0,
                "RoIs in RoIAlign must have non-negative size");
  } else {
    width = std::max(width, (float)1.);
    height = std::max(height, (float)1.);
  }
  r.start_h = start_h;
  r.start_w = start_w;
  r.bin_h = static_cast<float>(height) / static_cast<float>(pooled_h);
  r.bin_w = static_cast<float>(width) / static_cast<float>(pooled_w);
  r.grid_h = (sampling_ratio > 0) ? sampling_ratio : ceilf(height / pooled_h);
  r.grid_w = (sampling_ratio > 0) ? sampling_ratio : ceilf(width / pooled_w);
  return r;
}

// The sampling points of one RoI, in (ph, pw, iy, ix) order.
void sampling_points(const Roi& r, int height, int width, int pooled_h,
                     int pooled_w, std::vector<Point>& points) {
  points.resize((size_t)pooled_h * pooled_w * r.grid_h * r.grid_w);
  size_t k = 0;
  for (int ph = 0; ph < pooled_h; ph++) {
    for (int pw = 0; pw < pooled_w; pw++) {
      for (int iy = 0; iy < r.grid_h; iy++) {
        const float yy = r.start_h + ph * r.bin_h +
                         static_cast<float>(iy + .5f) * r.bin_h /
                             static_cast<float>(r.grid_h);
        for (int ix = 0; ix < r.grid_w; ix++) {
          const float xx = r.start_w + pw * r.bin_w +
                           static_cast<float>(ix + .5f) * r.bin_w /
                               static_cast<float>(r.grid_w);
          float y = yy;
          float x = xx;
          Point& p = points[k++];
          if (y < -1.0 || y > height || x < -1.0 || x > width) {
            p.pos1 = p.pos2 = p.pos3 = p.pos4 = 0;
            p.w1 = p.w2 = p.w3 = p.w4 = 0;
            p.inside = false;
            continue;
          }
          if (y <= 0) y = 0;
          if (x <= 0) x = 0;
          int y_low = (int)y;
          int x_low = (int)x;
          int y_high, x_high;
          if (y_low >= height - 1) {
            y_high = y_low = height - 1;
            y = (float)y_low;
          } else {
            y_high = y_low + 1;
          }
          if (x_low >= width - 1) {
            x_high = x_low = width - 1;
            x = (float)x_low;
          } else {
            x_high = x_low + 1;
          }
          float ly = y - y_low;
          float lx = x - x_low;
          float hy = 1. - ly, hx = 1. - lx;
          p.w1 = hy * hx;
          p.w2 = hy * lx;
          p.w3 = ly * hx;
          p.w4 = ly * lx;
          p.pos1 = y_low * width + x_low;
          p.pos2 = y_low * width + x_high;
          p.pos3 = y_high * width + x_low;
          p.pos4 = y_high * width + x_high;
          p.inside = true;
        }
      }
    }
  }
}

void check_inputs(const at::Tensor& t, const char* name) {
  TORCH_CHECK(t.device().is_cpu(), name, " must be a CPU tensor");
  TORCH_CHECK(t.scalar_type() == at::kFloat, name, " must be float32");
}

}  // namespace

at::Tensor roi_align_forward(const at::Tensor& input_, const at::Tensor& rois_,
                             int64_t pooled_h, int64_t pooled_w,
                             double spatial_scale_, int64_t sampling_ratio,
                             bool aligned) {
  check_inputs(input_, "input");
  check_inputs(rois_, "rois");
  const at::Tensor input = input_.contiguous();
  const at::Tensor rois = rois_.contiguous();
  const int channels = input.size(1), height = input.size(2),
            width = input.size(3);
  const int64_t n_rois = rois.size(0);
  const float spatial_scale = spatial_scale_;
  // every element is written below
  at::Tensor output =
      at::empty({n_rois, channels, pooled_h, pooled_w}, input.options());
  const float* in = input.data_ptr<float>();
  const float* roi_data = rois.data_ptr<float>();
  float* out = output.data_ptr<float>();
  at::parallel_for(0, n_rois, 1, [&](int64_t begin, int64_t end) {
    std::vector<Point> points;
    for (int64_t n = begin; n < end; n++) {
      const Roi r =
          roi_geometry(roi_data + n * 5, input.size(0), spatial_scale,
                       aligned, pooled_h, pooled_w, sampling_ratio);
      const float count = std::max(r.grid_h * r.grid_w, 1);
      sampling_points(r, height, width, pooled_h, pooled_w, points);
      for (int c = 0; c < channels; c++) {
        const float* plane =
            in + ((int64_t)r.batch * channels + c) * height * width;
        float* out_c = out + (n * channels + c) * pooled_h * pooled_w;
        size_t k = 0;
        for (int bin = 0; bin < pooled_h * pooled_w; bin++) {
          float sum = 0.;
          for (int s = 0; s < r.grid_h * r.grid_w; s++, k++) {
            const Point& p = points[k];
            float val = p.w1 * plane[p.pos1] + p.w2 * plane[p.pos2] +
                        p.w3 * plane[p.pos3] + p.w4 * plane[p.pos4];
            sum += val;
          }
          out_c[bin] = sum / count;
        }
      }
    }
  });
  return output;
}

at::Tensor roi_align_backward(const at::Tensor& grad_output_,
                              const at::Tensor& rois_, int64_t batch,
                              int64_t channels, int64_t height, int64_t width,
                              double spatial_scale_, int64_t sampling_ratio,
                              bool aligned, int64_t max_points) {
  check_inputs(grad_output_, "grad_output");
  check_inputs(rois_, "rois");
  const at::Tensor grad_output = grad_output_.contiguous();
  const at::Tensor rois = rois_.contiguous();
  const int64_t n_rois = rois.size(0);
  const int pooled_h = grad_output.size(2), pooled_w = grad_output.size(3);
  const float spatial_scale = spatial_scale_;
  at::Tensor grad_input =
      at::zeros({batch, channels, height, width}, grad_output.options());
  const float* roi_data = rois.data_ptr<float>();
  const float* g_out = grad_output.data_ptr<float>();
  float* g_in = grad_input.data_ptr<float>();

  std::vector<Roi> geometry(n_rois);
  for (int64_t n = 0; n < n_rois; n++) {
    geometry[n] = roi_geometry(roi_data + n * 5, batch, spatial_scale,
                               aligned, pooled_h, pooled_w, sampling_ratio);
  }
  // RoIs in chunks of at most max_points sampling points (at least one RoI
  // each), so that memory stays bounded for large grids; chunks go in RoI
  // order, which keeps every element's order of contributions.
  std::vector<std::vector<Point>> points(n_rois);
  int64_t first = 0;
  while (first < n_rois) {
    int64_t last = first;
    int64_t chunk_points = 0;
    do {
      const Roi& r = geometry[last];
      chunk_points += (int64_t)pooled_h * pooled_w * r.grid_h * r.grid_w;
      last++;
    } while (last < n_rois && chunk_points < max_points);
    at::parallel_for(first, last, 1, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; n++) {
        sampling_points(geometry[n], height, width, pooled_h, pooled_w,
                        points[n]);
      }
    });
    at::parallel_for(0, channels, 1, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; c++) {
        for (int64_t n = first; n < last; n++) {
          const Roi& r = geometry[n];
          const std::vector<Point>& pts = points[n];
          const float count = r.grid_h * r.grid_w;
          float* plane =
              g_in + ((int64_t)r.batch * channels + c) * height * width;
          const float* g_bins =
              g_out + (n * channels + c) * pooled_h * pooled_w;
          size_t k = 0;
          for (int bin = 0; bin < pooled_h * pooled_w; bin++) {
            const float g = g_bins[bin];
            for (int s = 0; s < r.grid_h * r.grid_w; s++, k++) {
              const Point& p = pts[k];
              if (!p.inside) continue;
              plane[p.pos1] += g * p.w1 / count;
              plane[p.pos2] += g * p.w2 / count;
              plane[p.pos3] += g * p.w3 / count;
              plane[p.pos4] += g * p.w4 / count;
            }
          }
        }
      }
    });
    for (int64_t n = first; n < last; n++) {
      std::vector<Point>().swap(points[n]);
    }
    first = last;
  }
  return grad_input;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("roi_align_forward", &roi_align_forward,
        "RoIAlign forward (avg, float32, CPU)");
  m.def("roi_align_backward", &roi_align_backward,
        "RoIAlign backward (avg, float32, CPU)", py::arg("grad_output"),
        py::arg("rois"), py::arg("batch"), py::arg("channels"),
        py::arg("height"), py::arg("width"), py::arg("spatial_scale"),
        py::arg("sampling_ratio"), py::arg("aligned"),
        py::arg("max_points") = 1 << 20);
}
