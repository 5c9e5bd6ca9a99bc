// The CycleGAN objective, as free functions in the style of stargan-v2's solver.
//
// Names follow pytorch-CycleGAN-and-pix2pix: G_A is the generator under the A->B condition,
// G_B under B->A (one conditional network, two conditions). D_A judges domain B images
// (real_B vs fake_B = G_A(real_A)), D_B judges domain A images.
#pragma once

#include <torch/torch.h>

#include "facecycle/core/networks.h"
#include "train_choices.h"

namespace fc::train {

struct LossWeights {
  double gan = 1.0;
  double cycle = 10.0;    // lambda_cycle, both directions
  double identity = 5.0;  // absolute weight of the identity L1 (0 skips the identity pass)
  // Std of Gaussian noise added to the fakes before they are reconstructed. CycleGAN learns to
  // hide the source image in low-amplitude high-frequency texture so that the cycle comes back
  // (Chu et al. 2017, "CycleGAN, a Master of Steganography"); noise makes that texture useless.
  double cycle_noise = 0.0;
  // Weight of real source-domain images as extra negatives for each discriminator (the D of B
  // also learns that real A faces are not B). Without them a D judges only realism, so a
  // residual generator that barely edits looks real and the edit fades; with them an unedited
  // face is scored as the wrong domain.
  double d_source_negatives = 0.0;
  // Weight of StarGAN's domain classification loss on the fakes (Choi et al. 2018): a per-task
  // classifier trained on real faces only asks each fake to be classified as its target domain.
  // The LSGAN D judges realism per patch; the classifier carries the attribute itself (grey hair,
  // wrinkles) that a residual generator otherwise learns too weakly.
  double domain_cls = 0.0;
};

// The images one generator pass produces; the D update reuses fake_A and fake_B.
struct CycleImages {
  torch::Tensor fake_B, fake_A, rec_A, rec_B, idt_A, idt_B;
};

// The networks the generator objective reads. Module holders share their module, so this is a
// cheap handle, not a copy of the weights.
struct CycleNets {
  ResnetGenerator G;
  PatchDiscriminator D_A;  // judges domain B (fake_B vs real_B)
  PatchDiscriminator D_B;  // judges domain A
};

// One batch of each domain and the condition ids of the task's two directions.
struct CycleBatch {
  torch::Tensor real_A, real_B;
  int64_t cond_AB = 0;  // G_A: A -> B
  int64_t cond_BA = 1;  // G_B: B -> A
};

struct GLoss {
  torch::Tensor total;                        // differentiable sum
  double loss_G_A = 0, loss_G_B = 0;          // LSGAN, generator side
  double loss_cycle_A = 0, loss_cycle_B = 0;  // weighted L1
  double loss_idt_A = 0, loss_idt_B = 0;      // weighted L1
  double loss_cls = 0;                        // weighted domain classification of the fakes
  double loss_colour = 0;                     // weighted colour shift (TaskConfig::keep_colour)
  double loss_smooth = 0;                     // weighted change detail (TaskConfig::smooth_change)
  double loss_local_tint = 0;                 // weighted local tint (TaskConfig::keep_local_colour)
  double loss_shape = 0;                      // weighted shading change (TaskConfig::keep_shape)
  double loss_local = 0;                      // weighted local adversarial term (train_step.cpp)
  double loss_hold = 0;                       // weighted pull toward held edits (train_step.cpp)
  CycleImages images;
  double adversarial() const { return 0.5 * (loss_G_A + loss_G_B); }
};

// LSGAN loss against a constant target (1 real, 0 fake).
torch::Tensor lsgan_loss(const torch::Tensor& prediction, float target);

// Runs the generator on both domains (fake, reconstruction, identity) in two batched calls and
// returns the generator objective. Instance norm works per sample, so batching A and B images
// under different conditions gives the same result as separate calls.
// The adversarial, cycle and identity terms only (w.domain_cls is the caller's: it needs the
// task's classifier).
GLoss compute_g_loss(CycleNets nets, const CycleBatch& batch, const LossWeights& w);

// The pull of a held task (TaskConfig::hold) toward the warm start's edit: 0.5 * (|G(A, AB) -
// G0(A, AB)| + |G(B, BA) - G0(B, BA)|), mean absolute, with G0 the frozen warm start. Only G
// gets gradients. Li and Hoiem's "learning without forgetting", on the held task's own faces.
torch::Tensor compute_hold_loss(ResnetGenerator& G, ResnetGenerator& G_hold,
                                const CycleBatch& batch);

// 0.5 * (BCE(C(side_A), A) + BCE(C(side_B), B)) for a domain classifier C whose per-patch logit
// says "domain B". On real faces it trains C (StarGAN's L_cls^r); on fakes (fake_A, fake_B) it is
// the generator's L_cls^f. With `downsample` > 1, C sees each image average-pooled by that
// factor, so each logit's field covers that many times more of the face: at 128 px and 2, every
// logit judges the whole face, which a dark patch on one cheek cannot satisfy by itself.
torch::Tensor domain_cls_loss(PatchDiscriminator& C, const torch::Tensor& side_A,
                              const torch::Tensor& side_B,
                              ClassifierInput input = ClassifierInput::kColour, int downsample = 1);

// Mean absolute shift of each image's average chroma (BT.601 Cb and Cr) from source to fake. A
// tint over the whole face moves it fully; a local change such as greying hair moves it only by
// the area it covers. UTKFace's older faces are redder on average, so an age edit learns a pink
// cast unless this costs something.
torch::Tensor colour_shift_loss(const torch::Tensor& source, const torch::Tensor& fake);

// Mean absolute high-frequency part of the change from source to fake: the change minus its box
// blur of (2*radius+1)^2 pixels. A smooth change (a shade, greying hair, a darker skin) costs
// little; a change that alternates from pixel to pixel costs its full amplitude. A generator pushed
// by a luminance-only classifier learned to draw horizontal pink-and-green stripes that the
// classifier reads as forehead lines (v9); the adversarial loss did not stop them. At 128 px the
// stripes are wider (v18), and a 3x3 blur keeps most of them, hence the radius.
torch::Tensor change_detail_loss(const torch::Tensor& source, const torch::Tensor& fake,
                                 int radius = 1);

// Mean growth in chroma saturation (|Cb| and |Cr|, BT.601) of each patch x patch area from source
// to fake. colour_shift_loss sees only the whole face's average, so v11 and v18 learned tints
// that cancel out over the face: pink cheeks beside yellow-green brows, a magenta maze. A patch
// whose colour fades toward grey (greying hair) costs nothing.
torch::Tensor local_tint_loss(const torch::Tensor& source, const torch::Tensor& fake, int patch);

// Mean absolute change of the local shading pattern from source to fake: L1 between their
// shape_views. A face lightened or darkened evenly, or given a new tone, keeps its pattern and
// costs little; dark sockets or harsh brows drawn on it change the pattern and cost their size.
// Black->White edits that lost the person drew exactly those (docs/MODEL.md, v53). It has no
// one-sided form: with the local mean taken out, the part of a change below the source's pattern
// equals the part above it (up to the window's edges), so a price on new darkness alone is half
// this one (v54).
torch::Tensor shape_change_loss(const torch::Tensor& source, const torch::Tensor& fake);

// RGB [N,3,H,W] images (the loaders' order) to their luminance (ITU-R BT.601), replicated to 3
// channels.
torch::Tensor to_grey3(const torch::Tensor& rgb);
// Luminance normalised by its mean and standard deviation over a window a quarter of the image
// wide (replicated to 3 channels): edges and the shapes they draw survive, skin tone does not.
// The floor on the local variance (0.01: a std of 0.1 on the [-1,1] scale) keeps flat skin from
// amplifying its noise.
torch::Tensor shape_view(const torch::Tensor& rgb, double var_floor = 0.01);

// 0.5 * (LSGAN(D(real), 1) + LSGAN(D(fake), 0) + w * LSGAN(D(source), 0)); fake is detached.
// `source` holds real images of the other domain (LossWeights::d_source_negatives); undefined or
// w = 0 leaves the paper's loss.
torch::Tensor compute_d_loss(PatchDiscriminator& D, const torch::Tensor& real,
                             const torch::Tensor& fake, const torch::Tensor& source = {},
                             double source_weight = 0.0);

}  // namespace fc::train
