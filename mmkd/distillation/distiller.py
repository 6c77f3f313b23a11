"""Feature distillation for mmdet / mmseg models on the teacher–student
core: a frozen teacher built from a config and a checkpoint, the student's
task loss and the distillation losses of recorded features
(:class:`~mmkd.teacher_student.feature_distillation.FeatureDistillation`).
What is new here: the config's short form and inheritance init."""
from mmengine.logging import print_log

from mmkd.registry import MODELS
from mmkd.teacher_student import TeacherStudentModel
from mmkd.utils.errors import ConfigError


@MODELS.register_module()
class FeatureDistiller(TeacherStudentModel):
    """A frozen teacher and a trainable student, trained on labelled
    batches::

        L = L_task(student) + w_distill · Σ_losses loss(inputs…)

    Args:
        student: config of the student (an mmdet / mmseg model).
        teacher: config of the teacher, or the path of a config file whose
            ``model`` is the teacher.
        teacher_ckpt: checkpoint of the teacher (a plain mmdet / mmseg one,
            or a distiller's / semi-supervised one: ``teacher.`` /
            ``student.`` prefixes are tried).
        distill_losses: ``name -> loss config`` (``MODELS``), each with
            ``inputs=dict(<forward argument>='student:<module>[<index>]',
            …)`` and optionally ``levels=N`` to repeat it per output level.
            Sources and argument names are checked when the model is built.
        inherit: module prefixes (e.g. ``['neck', 'rpn_head', 'roi_head']``)
            whose teacher weights initialise the student where the shapes
            agree ("inheritance" init, done in :meth:`init_weights`).
        distill_weight: ``w_distill`` (a hook may schedule it).
        data_preprocessor: default: the student's.

    Checkpoint keys ``student.*``, ``teacher.*``, ``distill_losses.*``;
    val / test / export use the student.
    """

    def __init__(self, student, teacher, distill_losses, teacher_ckpt=None,
                 inherit=(), distill_weight=1.0, data_preprocessor=None,
                 init_cfg=None):
        if data_preprocessor is None:
            data_preprocessor = student.get('data_preprocessor')
        super().__init__(
            student=student,
            teachers=dict(teacher=dict(model=teacher,
                                       checkpoint=teacher_ckpt)),
            distill_losses=distill_losses, distill_weight=distill_weight,
            predict_on='student', data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.inherit = list(inherit)

    def init_weights(self):
        super().init_weights()
        if not self.inherit:
            return
        teacher = self.teacher.state_dict()
        student = self.student.state_dict()
        copied, skipped = 0, []
        for key, value in teacher.items():
            if not any(key == p or key.startswith(p + '.')
                       for p in self.inherit):
                continue
            if key in student and student[key].shape == value.shape:
                student[key] = value.clone()
                # BN's num_batches_tracked (a scalar) always matches
                copied += int(value.is_floating_point())
            else:
                skipped.append(key)
        if not copied:
            raise ConfigError(f'inherit={self.inherit}: no teacher weight has '
                              'a student counterpart of the same shape')
        self.student.load_state_dict(student)
        print_log(f'inheritance init: {copied} tensors of {self.inherit} '
                  f'copied from the teacher'
                  + (f'; {len(skipped)} skipped (shape)' if skipped else ''),
                  logger='current')
