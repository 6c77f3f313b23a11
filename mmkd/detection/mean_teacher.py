"""Mean-teacher detection on the teacher–student core (Tarvainen & Valpola,
2017, as adapted to detection by Unbiased Teacher / Soft Teacher): the EMA
teacher's confident boxes on the weak view supervise the student on the
strong view."""
import torch

from mmkd.registry import MODELS

from .semi_detector import TeacherStudentDetector


@MODELS.register_module()
class MeanTeacherDetector(TeacherStudentDetector):
    """Semi-supervised detector: pseudo boxes from the teacher, kept by the
    pseudo-labeller (default: score ≥ 0.9), moved into the student's view
    and used as ground truth for the student's full detection loss.

    Args: see :class:`~mmkd.detection.semi_detector.TeacherStudentDetector`.

    An unlabelled batch without any pseudo box contributes no unsupervised
    loss (zero, never NaN) and is logged as such.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault('pseudo_labeller',
                          dict(type='FixedThreshold', score_thr=0.9))
        super().__init__(*args, **kwargs)
        if self.adaptive_labeller:
            raise ValueError(
                'MeanTeacherDetector trains with the detector\'s own losses, '
                'which take no per-box weights: use SoftTeacher with '
                f'{type(self.pseudo_labeller).__name__}')

    def pseudo_label(self, inputs, data_samples):
        results = self.teacher.predict(inputs, data_samples, rescale=False)
        kept = [self.pseudo_labeller(r.pred_instances)[0] for r in results]
        return self.as_targets(data_samples, kept), {}

    def unsup_loss(self, inputs, samples, info):
        n = sum(len(s.gt_instances) for s in samples)
        stats = dict(num_pseudo=torch.tensor(float(n) / len(samples)))
        if n == 0:
            return stats
        losses = self.student.loss(inputs, samples)
        losses.update(stats)
        return losses
