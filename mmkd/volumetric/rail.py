"""RAIL (Region-Aware Instructive Learning, arXiv 2505.03538): two groups of
two students -- a V-Net and a ResVNet -- and per group a teacher, the EMA of
the group's V-Net; the groups train in turn.

One step of the active group ``g`` (``shared/specs/rail_reference.md``
§1.4, with the paper's per-voxel definitions)::

    first round of g:  L_s = CE + Dice + λ_T·mean (p_s,u − sharpen(p_T_g,u))²
    later rounds:      all four students forward; best = argmin_k Dice_k on
                       the labelled crop;
                       L_s = CE + Dice + L_DFS(s, best)
                             + [s ≠ best]·L_CAL(s, best) + teacher term

for both students ``s`` of ``g``, each with its own optimiser
(``OptimWrapperDict`` keyed by student); then ``T_g ← EMA(V-Net_g)`` with
``d = min(1 − 1/(t_g + 1), 0.999)`` over the group's own step count
``t_g`` (``EMATeacherHook(warmup=True)`` asks :meth:`RAIL.ema_steps`).
λ_c → ``cal_weight`` and λ_T → ``teacher_weight`` ramp up with
``exp(−5 (1 − t_g/T)²)`` over ``rampup_iters`` group steps.

Departure from the reference code, on purpose: the groups alternate every
``group_iters`` iterations on fresh batches, not by replaying a two-epoch
buffer (the same data exposure in expectation, not bit-identical); the
other group's forward uses its batch statistics without moving its running
ones. Prediction: the mean softmax of the four students (``predict_on=
'students'``), or any member.
"""
from typing import Dict, List

import torch
import torch.nn.functional as F

from mmkd.registry import MODELS
from mmkd.teacher_student import TeacherStudentModel
from mmkd.teacher_student.batch_stats import batch_norm_statistics
from mmkd.teacher_student.model import current_iter
from mmkd.teacher_student.ramps import sigmoid_rampup
from mmkd.utils.dist import mean_over_ranks

from .losses import soft_dice_loss
from .rail_losses import best_student, cal_loss, dfs_loss, teacher_loss
from .segmentor import segmentation_of, sliding_window


@MODELS.register_module()
class RAIL(TeacherStudentModel):
    """Args:
        vnet / resvnet: network configs of the two students of each group
            (built twice: the groups start from different random weights).
        num_classes: classes, background included (2: tooth).
        alpha / beta: DFS weights (0.5 / 0.05).
        temperature: sharpening ``T`` of the best student's and the
            teacher's probabilities (0.1).
        cal_weight / teacher_weight: λ_c and λ_T after the ramp (20 / 10).
        rampup_iters: ramp length in group steps (3000).
        group_iters: iterations of a group's turn; the first turn of each
            group has no DFS / CAL.
        cal_kl_input / cal_confidence: see
            :func:`~mmkd.volumetric.rail_losses.cal_loss`.
        roi_size / sw_overlap / sw_batch_size / min_component_size:
            sliding-window inference and post-processing (the window
            batch as :class:`~mmkd.volumetric.VolumeSegmentor`'s).
    """
    ensembles = ('students', )

    def __init__(self, vnet, resvnet, num_classes=2, alpha=0.5, beta=0.05,
                 temperature=0.1, cal_weight=20.0, teacher_weight=10.0,
                 rampup_iters=3000, group_iters=100, cal_kl_input='logits',
                 cal_confidence=None, roi_size=(112, 112, 80),
                 sw_overlap=0.5, sw_batch_size=4, min_component_size=0,
                 predict_on='students', teacher_norm='running',
                 data_preprocessor=None, init_cfg=None):
        students = {}
        for g in (0, 1):
            students[f'vnet_{g}'] = vnet
            students[f'resvnet_{g}'] = resvnet
        teachers = {f'teacher_{g}': dict(ema_of=f'vnet_{g}') for g in (0, 1)}
        super().__init__(students=students, teachers=teachers,
                         predict_on=predict_on, teacher_norm=teacher_norm,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.num_classes = num_classes
        self.alpha, self.beta = alpha, beta
        self.temperature = temperature
        self.cal_weight, self.teacher_weight = cal_weight, teacher_weight
        self.rampup_iters = rampup_iters
        self.group_iters = group_iters
        self.cal_kl_input = cal_kl_input
        self.cal_confidence = cal_confidence
        self.roi_size = tuple(roi_size)
        self.sw_overlap = sw_overlap
        self.sw_batch_size = sw_batch_size
        self.min_component_size = min_component_size
        # method state: in every checkpoint, restored by --resume (the active
        # group follows from the iteration, restored too: group_at)
        self.register_buffer('group_steps', torch.zeros(2, dtype=torch.long))

    # -- the groups -----------------------------------------------------------
    @staticmethod
    def group(g: int) -> List[str]:
        return [f'vnet_{g}', f'resvnet_{g}']

    def group_at(self, step: int) -> int:
        """The group whose turn iteration ``step`` is."""
        return (step // self.group_iters) % 2

    def ema_pairs(self):
        g = self.group_at(current_iter())
        return [(f'vnet_{g}', f'teacher_{g}')]

    def ema_steps(self):
        """``t_g``: the group's steps before this one (its first update
        copies the V-Net, ``d = 0``, as the reference code)."""
        return [int(self.group_steps[self.group_at(current_iter())]) - 1]

    # -- training -------------------------------------------------------------
    def train_step(self, data, optim_wrapper) -> Dict[str, torch.Tensor]:
        g = self.group_at(current_iter())
        data = self.data_preprocessor(data, True)
        inputs, samples = data['inputs'], data['data_samples']
        x_l = torch.stack(list(inputs['sup']))
        y = torch.stack([s.gt_seg_map for s in samples['sup']]).to(x_l.device)
        x_u = torch.stack(list(inputs['unsup_student']))
        x_t = torch.stack(list(inputs['unsup_teacher']))
        names = self.group(g)
        with optim_wrapper[names[0]].optim_context(self):
            losses = self.group_losses(g, x_l, y, x_u, x_t)
        for name in names:
            optim_wrapper[name].update_params(sum(
                v for k, v in losses.items()
                if k.startswith(name + '.loss')))
        self.group_steps[g] += 1
        _, log_vars = self.parse_losses(losses)
        log_vars['group'] = float(g)
        return log_vars

    def group_losses(self, g: int, x_l, y, x_u, x_t=None
                     ) -> Dict[str, torch.Tensor]:
        """The losses of both students of group ``g`` on the labelled
        patches ``x_l`` (labels ``y``) and the unlabelled ``x_u`` (the
        teacher's view ``x_t``, by default the same), keyed
        ``<student>.loss_*`` (and statistics without ``loss``)."""
        x_t = x_u if x_t is None else x_t
        t = int(self.group_steps[g])
        ramp = sigmoid_rampup(t, self.rampup_iters)
        first_round = t < self.group_iters
        n_l = x_l.shape[0]
        x = torch.cat([x_l, x_u])
        with torch.no_grad(), self.teacher_statistics():
            teacher_probs = getattr(self, f'teacher_{g}')(x_t).softmax(1)
        outs = {name: getattr(self, name)(x) for name in self.group(g)}
        if not first_round:
            other = self.group(1 - g)
            with torch.no_grad():
                for name in other:
                    net = getattr(self, name)
                    with batch_norm_statistics(net, track=False):
                        outs[name] = net(x)
        dice = {k: soft_dice_loss(o[:n_l], y, squared=True)
                for k, o in outs.items()}
        losses = {}
        # every rank takes the same best student: the one of the Dice
        # losses averaged over the ranks' batches
        best = None if first_round else best_student(mean_over_ranks(dice))
        for name in self.group(g):
            z_l, z_u = outs[name][:n_l], outs[name][n_l:]
            terms = dict(loss_ce=F.cross_entropy(z_l, y),
                         loss_dice=dice[name],
                         loss_teacher=teacher_loss(
                             z_u, teacher_probs, self.teacher_weight * ramp,
                             self.temperature))
            if best is not None:
                best_out = outs[best].detach()
                terms['loss_dfs'] = dfs_loss(
                    z_l, y, best_out[:n_l].argmax(1), name == best,
                    self.alpha, self.beta)
                if name != best:
                    terms['loss_cal'] = cal_loss(
                        z_u, best_out[n_l:].softmax(1),
                        self.cal_weight * ramp, self.temperature,
                        self.cal_kl_input, self.cal_confidence)
                terms['is_best'] = torch.tensor(float(name == best))
            losses.update({f'{name}.{k}': v for k, v in terms.items()})
        return losses

    # -- inference ------------------------------------------------------------
    def forward(self, inputs, data_samples=None, mode='tensor'):
        nets = [getattr(self, n) for n in (
            self.student_names if self.predict_on == 'students'
            else (self.predict_on, ))]
        if mode == 'predict':
            return self.predict_with(nets, inputs, data_samples)
        if mode == 'tensor':
            x = torch.stack(list(inputs))
            return torch.stack([net(x).softmax(1) for net in nets]).mean(0)
        raise ValueError(f"{type(self).__name__} trains by train_step; "
                         f"forward takes mode 'predict' or 'tensor', "
                         f'not {mode!r}')

    @torch.no_grad()
    def predict_with(self, nets, inputs, data_samples):
        """Label volumes from the mean softmax of ``nets`` (sliding window;
        small components removed)."""

        def mean_probs(x):
            return torch.stack([net(x).softmax(1) for net in nets]).mean(0)

        for volume, sample in zip(inputs, data_samples):
            probs = sliding_window(volume, mean_probs, self.roi_size,
                                   self.sw_overlap, self.sw_batch_size)
            sample.pred_seg_map = segmentation_of(probs,
                                                  self.min_component_size)
        return data_samples
