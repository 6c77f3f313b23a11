"""Unlabelled images from a folder or a glob, without an annotation file."""
import glob
import os.path as osp

from mmengine.dataset import BaseDataset

from mmkd.registry import DATASETS
from mmkd.utils.errors import DataError

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


@DATASETS.register_module()
class UnlabeledImageFolder(BaseDataset):
    """Every image under ``data_prefix.img`` (recursively), or those matching
    ``img_glob`` (relative to ``data_root``), as unlabelled samples.

    Each sample has ``img_path``, ``img_id`` (its index), and ``width`` /
    ``height`` read from the file header (for aspect-ratio grouping; PIL
    reads only the header).  ``metainfo=dict(classes=...)`` should be the
    labelled set's class list.

    Example::

        unlabeled = dict(type='UnlabeledImageFolder',
                         data_root='data/my_images/',
                         img_glob='**/*.jpg', metainfo=metainfo,
                         pipeline=unsup_pipeline)
    """

    def __init__(self, *args, img_glob=None, read_sizes=True, **kwargs):
        self.img_glob = img_glob
        self.read_sizes = read_sizes
        kwargs.setdefault('data_prefix', dict(img=''))
        super().__init__(*args, **kwargs)

    def _paths(self):
        if self.img_glob is not None:
            pattern = osp.join(self.data_root or '', self.img_glob)
            paths = glob.glob(pattern, recursive=True)
            where = f'img_glob {pattern!r}'
        else:
            folder = self.data_prefix.get('img') or self.data_root
            if not folder or not osp.isdir(folder):
                raise DataError(f'unlabelled image folder {folder!r} '
                                '(data_root / data_prefix.img) does not exist')
            paths = glob.glob(osp.join(folder, '**', '*'), recursive=True)
            where = f'folder {folder!r}'
        paths = sorted(p for p in paths
                       if p.lower().endswith(IMG_EXTENSIONS))
        if not paths:
            raise DataError(f'no images ({", ".join(IMG_EXTENSIONS)}) match '
                            f'{where}')
        return paths

    def load_data_list(self):
        data_list = []
        for i, path in enumerate(self._paths()):
            info = dict(img_path=path, img_id=i, instances=[])
            if self.read_sizes:
                info['width'], info['height'] = _image_size(path)
            data_list.append(info)
        return data_list


def _image_size(path):
    from PIL import Image
    try:
        with Image.open(path) as img:
            return img.size
    except Exception:  # undecodable: the loading transform reports it
        return 0, 0
