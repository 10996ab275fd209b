"""The tools' user input, checked before any work: the config path,
``--cfg-options`` keys and the output folders.

mmengine's ``Config.merge_from_dict`` adds any key it is given, so a
misspelt ``--cfg-options train_cfg.max_epoch=5`` is silently ignored (or
fails much later with a traceback from deep inside a constructor). Here a
key the config does not have is accepted only when it is an argument of
the registered class that the dict builds, and refused when it is not,
or when it is a near miss of an existing key ("did you mean ...").

mmengine's ``DictAction`` removes every space of a value (a path
``data_root=/data/my corpus`` becomes ``/data/mycorpus``) and recurses
without end on ``key="dict(type='ecc', blur=3)"``. :class:`CfgOptionsAction`
keeps single values as given and such ``dict(...)`` values as strings;
:func:`merge_cfg_options` reads them as the dict they spell (literal
arguments only), which replaces the config's value as a whole, also where
the config holds None.

A config file's variables (``data_root``, ``cache_dir``, ``max_epochs``)
are substituted into the dicts that use them when the file is read, so
``--cfg-options data_root=...`` would change nothing: such a key is
refused with the keys that hold its value.
"""
import ast
import copy
import difflib
import inspect
import os
import os.path as osp
import tempfile
from typing import Iterable, List, Optional

from mmengine.config import Config, DictAction

__all__ = ['UserInputError', 'CfgOptionsAction', 'load_config',
           'merge_cfg_options', 'check_cfg_options', 'ensure_writable_dir']


class UserInputError(ValueError):
    """A bad argument of a tool: a config that does not exist, an unknown
    ``--cfg-options`` key, an output folder that cannot be written."""


class CfgOptionsAction(DictAction):
    """``--cfg-options k=v ...`` (mmengine's ``DictAction``) that keeps a
    single value's spaces and leaves ``dict(...)`` values as strings for
    :func:`merge_cfg_options`; lists and tuples are parsed as upstream."""

    @staticmethod
    def _parse_iterable(val: str):
        text = val.strip()
        if text.startswith('dict('):
            return text
        if ',' not in text and not text.startswith(('(', '[')):
            return DictAction._parse_int_float_bool(text.strip('\'"'))
        return DictAction._parse_iterable(val)


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """``Config.fromfile(path)`` merged with checked ``cfg_options``.

    Raises:
        UserInputError: ``path`` is not a file, not a config (extension,
            syntax, an undefined name, a missing ``_base_`` file), or an
            option names a key the config cannot take
            (:func:`check_cfg_options`).
    """
    if not osp.isfile(path):
        what = 'is a folder, not a file' if osp.isdir(path) else 'not found'
        raise UserInputError(f'config {what}: {path}')
    if not path.lower().endswith(('.py', '.yml', '.yaml', '.json')):
        raise UserInputError(f'config {path}: expected a .py config file '
                             '(or .yml/.yaml/.json)')
    try:
        cfg = Config.fromfile(path)
    except SyntaxError as exc:  # mmengine names no file ("<unknown>")
        raise UserInputError(f'config {path}, line {exc.lineno}: syntax '
                             f'error: {exc.msg}') from None
    except (NameError, ImportError, FileNotFoundError) as exc:
        # a misspelt variable or module, a _base_ file that is not there
        raise UserInputError(f'config {path} cannot be read: '
                             f'{type(exc).__name__}: {exc}') from None
    if cfg_options:
        merge_cfg_options(cfg, cfg_options)
    expand_home_paths(cfg)
    return cfg


#: config keys holding corpus / cache paths, read as a shell reads them
_HOME_PATH_KEYS = ('data_root', 'ann_file', 'cache_dir')


def expand_home_paths(node) -> None:
    """Expand ``~`` in every ``data_root`` / ``ann_file`` / ``cache_dir`` of
    a config, in place, so that the tools (preprocessing, cache and recipe
    checks) and the datasets (which expand these themselves) name the same
    folders: ``data_root='~/data/casme2'`` is the home folder's, not a
    folder called ``~`` under the working directory."""
    if hasattr(node, 'keys'):
        for key in list(node.keys()):
            value = node[key]
            if (key in _HOME_PATH_KEYS and isinstance(value, str)
                    and value.startswith('~')):
                node[key] = osp.expanduser(value)
            else:
                expand_home_paths(value)
    elif isinstance(node, (list, tuple)):
        for item in node:
            expand_home_paths(item)


def merge_cfg_options(cfg: Config, cfg_options: Optional[dict]) -> None:
    """``cfg.merge_from_dict(cfg_options)`` after
    :func:`check_cfg_options`, ``"dict(...)"`` values read as dicts."""
    if cfg_options:
        options = {}
        for key, value in cfg_options.items():
            value = parse_dict_value(value)
            if isinstance(value, dict) and _has_key(cfg, key):
                value = dict(value, _delete_=True)  # replace, not merge
            options[key] = value
        check_cfg_options(cfg, options)
        cfg.merge_from_dict(options)


def _has_key(cfg, key: str) -> bool:
    node = cfg
    for part in key.split('.'):
        if isinstance(node, (list, tuple)) and part.isdigit() and int(
                part) < len(node):
            node = node[int(part)]
        elif hasattr(node, 'keys') and part in node:
            node = node[part]
        else:
            return False
    return True


def parse_dict_value(value):
    """``"dict(a=1, b=dict(c='x'))"`` -> ``{'a': 1, 'b': {'c': 'x'}}``;
    other values as they are.

    Raises:
        UserInputError: a ``dict(...)`` that is not keywords of literals.
    """
    if not (isinstance(value, str) and value.strip().startswith('dict(')):
        return value

    def read(node):
        if isinstance(node, ast.Call) and getattr(node.func, 'id',
                                                  None) == 'dict':
            if node.args or any(k.arg is None for k in node.keywords):
                raise ValueError('keyword arguments only')
            return {k.arg: read(k.value) for k in node.keywords}
        try:
            return ast.literal_eval(node)
        except ValueError:
            raise ValueError(f'{ast.unparse(node)} is not a literal '
                             '(quote strings)') from None
    try:
        parsed = read(ast.parse(value.strip(), mode='eval').body)
    except (SyntaxError, ValueError) as exc:
        raise UserInputError(f'--cfg-options value {value!r}: write '
                             "dict(key=literal, ...), e.g. dict(type='ecc', "
                             f'blur=3) ({exc})') from exc
    return parsed


def check_cfg_options(cfg: Config, cfg_options: dict) -> None:
    """Refuse ``--cfg-options`` keys the config cannot take.

    A key whose every part exists in ``cfg`` is fine. At the first part
    that does not exist, the key is

    * accepted if that dict builds a registered class (its ``type``, after
      the merge) taking an argument of that name,
    * refused if neither the class nor the bases its ``**kwargs`` are
      passed on to take such an argument,
    * otherwise refused only when it nearly matches an existing key or a
      known argument (a typo); adding a new key stays possible.

    Raises:
        UserInputError: one line per refused key, with the closest valid
            key where there is one.
    """
    merged = copy.deepcopy(cfg)
    try:
        merged.merge_from_dict(copy.deepcopy(cfg_options))
    except (KeyError, TypeError) as exc:  # a list index, a value not a dict
        problems = [p for p in (_key_problem(cfg, cfg, key)
                                for key in cfg_options) if p]
        hint = ('; give the whole value instead: key="dict(...)"'
                if isinstance(exc, TypeError) else '')
        raise UserInputError('\n'.join(problems) or (
            f'--cfg-options: {exc.args[0] if exc.args else exc}{hint}')
        ) from exc
    problems = [p for p in (_key_problem(cfg, merged, key) or
                            _copied_variable(cfg, key, value)
                            for key, value in cfg_options.items()) if p]
    if problems:
        raise UserInputError('\n'.join(problems))


def _key_problem(cfg, merged, key: str) -> Optional[str]:
    parts = key.split('.')
    node, new = cfg, merged
    for i, part in enumerate(parts):
        where = '.'.join(parts[:i]) or 'the config'
        if isinstance(node, (list, tuple)):
            if part.isdigit() and int(part) < len(node):
                node, new = node[int(part)], new[int(part)]
                continue
            return (f'--cfg-options {key}: {where} is a list of {len(node)} '
                    f'item(s); {part!r} is not an index of it')
        if not hasattr(node, 'keys'):
            return None  # a value replaced by a dict: the user's choice
        if part in node:
            node, new = node[part], new[part]
            continue
        owner = new.get('type') if hasattr(new, 'get') else None
        accepts, params = _takes_argument(owner, part)
        if accepts:
            return None
        close = difflib.get_close_matches(
            part, [str(k) for k in node.keys()] + params, n=1, cutoff=0.75)
        if accepts is None and not close:
            return None
        owner_name = getattr(owner, '__name__', owner)
        msg = (f'--cfg-options {key}: {where} has no key {part!r}' +
               (f' and {owner_name} takes no argument {part!r}'
                if accepts is False else ''))
        if close:
            msg += f"; did you mean {'.'.join(parts[:i] + [close[0]])}?"
        return msg
    return None


def _holders(cfg, value, skip: str) -> List[tuple]:
    """``(key, held)`` of each nested key of ``cfg`` (outside its top-level
    key ``skip``) that holds ``value``, or, for a path, a path under it
    (``source_root + '/casme2'``)."""
    def holds(child):
        if type(child) is type(value) and child == value:
            return True
        return isinstance(value, str) and isinstance(child, str) and \
            child.startswith(value.rstrip('/') + '/')

    def walk(node, prefix):
        items = (node.items() if hasattr(node, 'items') else
                 enumerate(node) if isinstance(node, (list, tuple)) else ())
        for name, child in items:
            path = f'{prefix}{name}'
            if holds(child):
                yield path, child
            else:
                yield from walk(child, path + '.')
    return [found for name, child in cfg.items() if name != skip
            for found in walk({name: child}, '')]


def _copied_variable(cfg, key: str, value) -> Optional[str]:
    """Why setting ``key`` would change nothing, if it is a variable of the
    config file whose value was copied into nested keys when the file was
    read (``data_root`` into ``train_dataloader.dataset.data_root``, ...).
    Keys the runner reads (``work_dir``, ``load_from``, ...) are not."""
    from mmengine.runner import Runner
    if '.' in key or key not in cfg or key in inspect.signature(
            Runner.__init__).parameters:
        return None
    old = cfg[key]
    if isinstance(old, bool) or not isinstance(old, (str, int, float)):
        return None  # flags and dicts (e.g. preprocess) are read as such
    # copies inside other variables (a pipeline list copied whole into a
    # dataloader) change nothing either: not offered
    variables = {name for name, v in cfg.items() if name != key and
                 isinstance(v, (dict, list)) and _holders(cfg, v, name)}
    copies = [(path, held) for path, held in _holders(cfg, old, key)
              if '.' in path and path.split('.')[0] not in variables]
    if not copies:
        return None
    return (f'--cfg-options {key}: a variable of the config, read when the '
            f'config was loaded; setting it changes nothing. Set the keys '
            f'that hold its value instead: ' + ' '.join(
                f'{path}={value}{held[len(old):] if held != old else ""}'
                for path, held in copies))


def _registered(type_name: str):
    """The class or function registered as ``type_name`` in any of the
    registries configs build from (mmaction's, which reach mmengine's)."""
    import mmaction.registry as registries
    from mmengine.registry import Registry
    for name in dir(registries):
        registry = getattr(registries, name)
        if isinstance(registry, Registry):
            try:
                found = registry.get(type_name)
            except Exception:  # noqa: BLE001 (a scope that cannot import)
                found = None
            if found is not None:
                return found
    return None


def _takes_argument(owner, name: str):
    """``(accepts, params)``: whether the class/function ``owner`` (or the
    registered name) takes an argument ``name`` -- True, False, or None
    when unknown (no such type, or ``**kwargs``) -- and the argument names
    seen along its base classes (for suggestions)."""
    target = _registered(owner) if isinstance(owner, str) else owner
    if target is None:
        return None, []
    params: List[str] = []
    chain: Iterable = (target.__mro__ if inspect.isclass(target)
                       else [target])
    for item in chain:
        func = item.__dict__.get('__init__') if inspect.isclass(
            item) else item
        if func is None or func is object.__init__:
            continue
        try:
            sig = inspect.signature(func)
        except (TypeError, ValueError):
            return None, params
        kinds = {p.kind for p in sig.parameters.values()}
        params += [p for p, v in sig.parameters.items()
                   if v.kind not in (v.VAR_KEYWORD, v.VAR_POSITIONAL)
                   and p != 'self']
        if name in params:
            return True, params
        if inspect.Parameter.VAR_KEYWORD not in kinds:
            return False, params  # a closed signature ends the chain
        # **kwargs: passed on to the next base's __init__ (house style)
    return None, params  # open-ended up to object: anything may be taken


def ensure_writable_dir(path: str, what: str = 'work dir') -> str:
    """Create ``path`` if needed and check that a file can be written in
    it; returns ``path``.

    Raises:
        UserInputError: naming ``what``, the folder and the reason.
    """
    if '://' in str(path):
        return path
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise UserInputError(f'{what} {path} is not writable: '
                             f'{exc.strerror or exc}') from exc
    return path
