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

from mmkd.registry import MODELS
from mmkd.teacher_student import TeacherStudentModel
from mmkd.teacher_student.batch_stats import batch_norm_statistics
from mmkd.teacher_student.model import current_iter
from mmkd.teacher_student.ramps import sigmoid_rampup
from mmkd.utils.dist import mean_over_ranks
from mmkd.utils.unwrap import unwrap_model

from .rail_losses import best_student, cal_loss, dfs_loss, teacher_loss
from .segmentor import predict_mean_softmax


@MODELS.register_module()
class RAIL(TeacherStudentModel):
    """Args:
        vnet / resvnet: :class:`~mmkd.volumetric.VolumeSegmentor` configs of
            the two students of each group (built twice: the groups start
            from different random weights); their own loss (CE + Dice,
            ``dice_squared=True`` for RAIL's) is ``L_s``'s supervised part
            and their sliding window predicts the ensemble.
        alpha / beta: DFS weights (0.5 / 0.05).
        temperature: sharpening ``T`` of the best student's and the
            teacher's probabilities (0.1).
        cal_weight / teacher_weight: λ_c and λ_T after the ramp (20 / 10).
        rampup_iters: ramp length in group steps (3000).
        group_iters: iterations of a group's turn; the first turn of each
            group has no DFS / CAL.
        cal_kl_input / cal_confidence: see
            :func:`~mmkd.volumetric.rail_losses.cal_loss`.

    Each student has its own optimiser (an ``OptimWrapperDict`` keyed by
    student, :class:`~mmkd.engine.MemberOptimWrapperConstructor`): the core's
    ``train_step`` steps those :meth:`trained_students` names.
    """
    ensembles = ('students', )

    def __init__(self, vnet, resvnet, alpha=0.5, beta=0.05,
                 temperature=0.1, cal_weight=20.0, teacher_weight=10.0,
                 rampup_iters=3000, group_iters=100, cal_kl_input='logits',
                 cal_confidence=None, predict_on='students',
                 teacher_norm='running', data_preprocessor=None,
                 init_cfg=None):
        students = {}
        for g in (0, 1):
            students[f'vnet_{g}'] = vnet
            students[f'resvnet_{g}'] = resvnet
        teachers = {f'teacher_{g}': dict(ema_of=f'vnet_{g}') for g in (0, 1)}
        super().__init__(students=students, teachers=teachers,
                         predict_on=predict_on, teacher_norm=teacher_norm,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.alpha, self.beta = alpha, beta
        self.temperature = temperature
        self.cal_weight, self.teacher_weight = cal_weight, teacher_weight
        self.rampup_iters = rampup_iters
        self.group_iters = group_iters
        self.cal_kl_input = cal_kl_input
        self.cal_confidence = cal_confidence
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

    def trained_students(self) -> List[str]:
        return self.group(self.group_at(current_iter()))

    def ema_pairs(self):
        g = self.group_at(current_iter())
        return [(f'vnet_{g}', f'teacher_{g}')]

    def ema_steps(self):
        """``t_g``: the group's steps before this one (its first update
        copies the V-Net, ``d = 0``, as the reference code)."""
        return [int(self.group_steps[self.group_at(current_iter())]) - 1]

    # -- training -------------------------------------------------------------
    def loss(self, inputs: Dict, data_samples: Dict) -> Dict:
        """The active group's losses, keyed ``<student>.loss_*`` (each
        student's optimiser steps on its own), and ``group``; counts the
        group's step."""
        g = self.group_at(current_iter())
        losses = self.group_losses(
            g, torch.stack(list(inputs['sup'])), data_samples['sup'],
            torch.stack(list(inputs['unsup_student'])),
            torch.stack(list(inputs['unsup_teacher'])))
        losses['group'] = torch.tensor(float(g))
        self.group_steps[g] += 1
        return losses

    def group_losses(self, g: int, x_l, sup_samples, x_u, x_t=None
                     ) -> Dict[str, torch.Tensor]:
        """The losses of both students of group ``g`` on the labelled
        patches ``x_l`` (their ``sup_samples`` hold the labels) and the
        unlabelled ``x_u`` (the teacher's view ``x_t``, by default the
        same), keyed ``<student>.loss_*`` (and statistics without
        ``loss``)."""
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
        sup = {k: unwrap_model(getattr(self, k)).loss_by_logits(
            o[:n_l], sup_samples) for k, o in outs.items()}
        losses = {}
        if not first_round:  # the labels, for DFS
            y = torch.stack([s.gt_seg_map for s in sup_samples]).to(x.device)
        # every rank takes the same best student: the one of the Dice
        # losses averaged over the ranks' batches
        best = None if first_round else best_student(mean_over_ranks(
            {k: v['loss_dice'] for k, v in sup.items()}))
        for name in self.group(g):
            z_l, z_u = outs[name][:n_l], outs[name][n_l:]
            terms = dict(sup[name], loss_teacher=teacher_loss(
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
    def predict_ensemble(self, name, inputs, data_samples):
        """``'students'``: the mean softmax of the four students."""
        return predict_mean_softmax(
            [unwrap_model(getattr(self, n)) for n in self.student_names],
            inputs,
            data_samples)
