"""tools/analysis_tools/profile_step.py's part timer: outermost calls only,
every class of
the named files."""
import importlib.util
import os.path as osp
import time
import types

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _tool():
    spec = importlib.util.spec_from_file_location(
        'profile_step', osp.join(ROOT, 'tools', 'analysis_tools', 'profile_'
                                                                  'step.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def _fake_module(path):
    """A module of two preprocessors, the outer one calling the inner one
    (as mmdet's MultiBranchDataPreprocessor calls DetDataPreprocessor)."""
    module = types.ModuleType('fake_preprocessors')
    module.__file__ = path

    class Inner:
        def forward(self):
            time.sleep(0.02)

    class Outer:
        def forward(self):
            time.sleep(0.02)
            Inner().forward()

    for cls in (Inner, Outer):
        cls.__module__ = module.__name__
        setattr(module, cls.__name__, cls)
    return module


def test_nested_calls_of_one_part_count_once():
    tool = _tool()
    module = _fake_module('/x/data_preprocessor.py')
    timer = tool.PartTimer()
    timer.instrument([module],
                     [('data preprocessor', 'data_preprocessor.py',
                       'forward'),
                      ('elsewhere', 'other.py', 'forward')])
    module.Outer().forward()
    module.Inner().forward()
    # outer call 0.04 s + inner call alone 0.02 s; counting the nested inner
    # call again would give 0.08 s
    assert 0.06 <= timer.totals['data preprocessor'] < 0.075
    assert 'elsewhere' not in timer.totals


def test_the_default_parts_name_the_methods_of_a_semi_supervised_step():
    from mmkd.detection import soft_teacher
    from mmkd.teacher_student import model
    tool = _tool()
    for module, cls in ((soft_teacher, soft_teacher.SoftTeacher),
                        (model, model.TeacherStudentModel)):
        names = [name for _, suffix, name in tool.PARTS
                 if module.__file__.endswith(suffix)]
        assert names and all(n in vars(cls) for n in names), (cls, names)


def test_operator_table_is_per_iteration_and_sorted_by_self_time():
    tool = _tool()
    Event = types.SimpleNamespace
    events = [Event(key='aten::mm', self_cpu_time_total=1.5e6, count=40),
              Event(key='RoIAlignFunction', self_cpu_time_total=8e6,
                    count=20),
              Event(key='aten::add', self_cpu_time_total=1e5, count=400)]
    # 10 iterations, 16 s of steps: RoIAlign 0.8 s/iter, half of the step
    rows = tool.operator_table(events, 2, 10, 16.0).splitlines()[-2:]
    assert rows == ['| RoIAlignFunction | 0.800 | 2.0 | 50% |',
                    '| aten::mm | 0.150 | 4.0 | 9% |']
