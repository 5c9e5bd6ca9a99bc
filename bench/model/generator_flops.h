// Convolution FLOPs of the resize-conv generator, counted analytically: 2*Cin*Cout*k^2*Hout*Wout
// per conv (multiply and add counted separately; norms, activations, padding not counted).
#pragma once

inline double conv_flops(double cin, double cout, double k, double hout, double wout) {
  return 2.0 * cin * cout * k * k * hout * wout;
}

inline double generator_flops_per_face(int width, int blocks, int size) {
  const double w = width, s = size, h = s / 2, q = s / 4;
  double f = conv_flops(3, w, 7, s, s);                 // c7s1-k
  f += conv_flops(w, 2 * w, 3, h, h);                   // d2k
  f += conv_flops(2 * w, 4 * w, 3, q, q);               // d4k
  f += blocks * 2 * conv_flops(4 * w, 4 * w, 3, q, q);  // residual blocks
  f += conv_flops(4 * w, 2 * w, 3, h, h);               // resize x2 + conv
  f += conv_flops(2 * w, w, 3, s, s);                   // resize x2 + conv
  f += conv_flops(w, 3, 7, s, s);                       // c7s1-3
  return f;
}

// What facecycle's inference path actually computes (networks.cpp): each nearest-upsample +
// 3x3 conv runs as one 2x2 conv with 4x the outputs on the replicate-padded low-res grid, and
// the c7s1-3 tail as a 1x1 conv to 3*49 tap planes over the padded image. Counting these gives
// the arithmetic rate the CPU really sustained; the nominal count above gives the rate relative
// to the network's definition (what PyTorch runs).
inline double generator_executed_flops_per_face(int width, int blocks, int size) {
  const double w = width, s = size, h = s / 2, q = s / 4;
  double f = conv_flops(3, w, 7, s, s);
  f += conv_flops(w, 2 * w, 3, h, h);
  f += conv_flops(2 * w, 4 * w, 3, q, q);
  f += blocks * 2 * conv_flops(4 * w, 4 * w, 3, q, q);
  f += conv_flops(4 * w, 4 * 2 * w, 2, q + 1, q + 1);  // fused up 1
  f += conv_flops(2 * w, 4 * w, 2, h + 1, h + 1);      // fused up 2
  f += conv_flops(w, 3 * 49, 1, s + 6, s + 6);         // tail tap planes
  return f;
}
