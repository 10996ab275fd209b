"""Readers for the shipped annotation files and frame folders.

All errors name the file (and row, where there is one) and say what was
expected.
"""
import codecs
import csv
import io
import itertools
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple

from .errors import CorpusError, MissingFileError

IMAGE_EXTS = ('.jpg', '.jpeg', '.bmp', '.png')
VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.mpg', '.mpeg',
              '.m4v', '.wmv', '.3gp', '.flv', '.ts', '.mts', '.m2ts')

_LAST_INT = re.compile(r'(\d+)(?!.*\d)')
_DIGITS = re.compile(r'\d+')


def _norm_header(value) -> str:
    return re.sub(r'[\s_\-()]+', '', str(value)).lower() if value is not None \
        else ''


class TableRow(dict):
    """A dict of field -> cell value that also knows where it came from."""

    def __init__(self, values: dict, file: str, row: int):
        super().__init__(values)
        self.file = file
        self.row = row

    @property
    def where(self) -> str:
        return f'{self.file}, row {self.row}'


def _match_header(cells: Sequence, fields: Dict[str, Sequence[str]]
                  ) -> Optional[Dict[str, int]]:
    normed = [_norm_header(c) for c in cells]
    found = {}
    for field, aliases in fields.items():
        for alias in aliases:
            alias = _norm_header(alias)
            if alias in normed:
                found[field] = normed.index(alias)
                break
    return found


def read_table(path: str,
               fields: Dict[str, Sequence[str]],
               required: Sequence[str],
               sheet: Optional[str] = None,
               max_header_row: int = 50,
               headerless: Optional[Sequence[str]] = None) -> List[TableRow]:
    """Read an xlsx sheet or csv file into rows keyed by field name.

    The header row is located by its column names (SAMM ships ~12 text rows
    above it): the first row holding a column for every ``required`` field.
    Entirely empty rows are skipped. Row numbers are 1-based file rows (as
    Excel shows them). A csv may be UTF-8 (with or without BOM) or, as
    Excel on Windows saves it, cp1252; its delimiter may be ``,``, ``;``
    or a tab.

    Args:
        path: ``.xlsx`` or ``.csv`` file.
        fields: field -> accepted column names (compared ignoring case,
            spaces, underscores, dashes and parentheses).
        required: fields whose columns must exist.
        sheet: xlsx sheet name (None: the first sheet).
        headerless: the column names, in order, of copies saved without
            the header row: when no header row is found and the first row
            has exactly this many cells, none of them a column name, every
            row is data in this order (the cells are then checked like any
            other).
    """
    if not osp.isfile(path):
        raise MissingFileError(f'annotation file not found: {path}'
                               f'{_near_files(path)}')
    if path.lower().endswith(('.xlsx', '.xlsm')):
        tables = _xlsx_tables(path, sheet)
    elif path.lower().endswith(('.csv', '.txt')):
        tables, sheet = _csv_tables(path), None
    else:
        raise CorpusError(f'{path}: unsupported annotation file type; '
                          'expected .xlsx or .csv (save an old .xls '
                          'workbook as .xlsx)')
    found = _locate_header(tables, fields, required, max_header_row,
                           headerless)
    if found is None:
        names = {f: list(a) for f, a in fields.items() if f in required}
        raise CorpusError(
            f'{path}' + (f' (sheet {sheet!r})' if sheet else
                         f' (sheets {[t.title for t in tables]})'
                         if len(tables) > 1 and isinstance(tables[0], _Sheet)
                         else '') +
            f': malformed annotation file: no header row with the columns '
            f'{names} in the first {max_header_row} rows')
    rows, start, columns = found
    out: List[TableRow] = []
    for number, cells in itertools.islice(rows, start + 1, None):
        if all(c is None or str(c).strip() == '' for c in cells):
            continue
        values = {f: (cells[i] if i < len(cells) else None)
                  for f, i in columns.items()}
        out.append(TableRow(values, path, number))
    return out


def _near_files(path: str) -> str:
    """`` (<names> there: ...)`` naming the files beside a missing
    annotation file whose name differs only in case or extension (an old
    ``.xls`` workbook, a ``.csv`` export), or ``''``."""
    folder, name = osp.split(path)
    stem = osp.splitext(name)[0].lower()
    try:
        names = os.listdir(folder or '.')
    except OSError:
        return ''
    near = sorted(n for n in names if n != name and osp.isfile(
        osp.join(folder, n)) and osp.splitext(n)[0].lower() == stem)
    if not near:
        return ''
    return (f' ({", ".join(near)} there: give its name as ann_file; save '
            'an .xls workbook as .xlsx or .csv)')


def _locate_header(tables, fields, required, max_header_row, headerless
                   ) -> Optional[Tuple[list, int, Dict[str, int]]]:
    """(rows, position of the header row, field -> column) of the first
    table (parse) that holds the header row; for a header-less copy
    (``headerless``: the column names in order) the parse whose first row
    has exactly that many cells, none a column name, with position -1."""
    for rows in tables:
        header = _find_header(rows, fields, required, max_header_row)
        if header is not None:
            return (rows, ) + header
    if not headerless:
        return None
    columns = _match_header(headerless, fields)
    names = {_norm_header(n) for n in headerless}
    for rows in tables:
        first = next((cells for _, cells in rows
                      if any(c is not None for c in cells)), None)
        if (first is not None and len(first) == len(headerless)
                and not names & {_norm_header(c) for c in first}):
            return rows, -1, columns
    return None


def _find_header(rows, fields, required, max_header_row
                 ) -> Optional[Tuple[int, Dict[str, int]]]:
    """(position in ``rows``, field -> column) of the header row, or None:
    the first row with a column for every required field."""
    for pos, (number, cells) in enumerate(rows):
        if number > max_header_row:
            return None
        found = _match_header(cells, fields)
        if all(f in found for f in required):
            return pos, found
    return None


class _Sheet(list):
    """``(row number, cells)`` of one worksheet, with its ``title``."""

    def __init__(self, rows, title: str) -> None:
        super().__init__(rows)
        self.title = title


def _xlsx_tables(path: str, sheet: Optional[str]) -> List[_Sheet]:
    """The rows of sheet ``sheet``, or of every sheet in workbook order
    (``sheet=None``: the header row is looked for in each, so a notes sheet
    placed first does not hide the table). A cell of a merged range reads
    as the range's value (a Subject written once for all its rows)."""
    import openpyxl
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, ...
        raise CorpusError(f'{path}: malformed xlsx file, openpyxl cannot '
                          f'read it ({type(exc).__name__}: {exc})') from exc
    try:
        sheets = wb.worksheets if sheet is None else \
            [wb[_find_sheet(path, sheet, wb.sheetnames)]]
        tables = []
        for ws in sheets:
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            _fill_merged(rows, _merged_ranges(path, ws))
            tables.append(_Sheet(enumerate(rows, start=1), ws.title))
    finally:
        wb.close()
    return tables


_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Z]+\d+:'
                        rb'[A-Z]+\d+)"')


def _merged_ranges(path: str, ws) -> List[Tuple[int, int, int, int]]:
    """(min_col, min_row, max_col, max_row), 1-based, of the merged cell
    ranges of a read-only worksheet (read from its XML part: openpyxl's
    read-only mode, which keeps large sheets fast, does not parse them)."""
    import zipfile

    from openpyxl.utils import range_boundaries
    part = getattr(ws, '_worksheet_path', None)
    if not part:
        return []
    with zipfile.ZipFile(path) as z:
        data = z.read(part)
    return [range_boundaries(ref.decode()) for ref in _MERGE_REF.findall(data)]


def _fill_merged(rows: List[list], ranges) -> None:
    """Give every cell of each merged range the value of its top-left
    cell (openpyxl leaves the others empty)."""
    for min_col, min_row, max_col, max_row in ranges:
        if min_row > len(rows):
            continue
        first = rows[min_row - 1]
        value = first[min_col - 1] if min_col <= len(first) else None
        for r in range(min_row - 1, min(max_row, len(rows))):
            row = rows[r]
            if len(row) < max_col:
                row.extend([None] * (max_col - len(row)))
            for c in range(min_col - 1, max_col):
                row[c] = value


def _find_sheet(path: str, sheet: str, names: Sequence[str]) -> str:
    """The sheet called ``sheet``, or the one sheet whose name differs only
    in case and spacing (``'Sheet 1'`` for ``'Sheet1'``)."""
    if sheet in names:
        return sheet
    close = [n for n in names if _norm_header(n) == _norm_header(sheet)]
    if len(close) == 1:
        return close[0]
    raise CorpusError(f'{path}: no sheet {sheet!r}; the file has {names}')


def read_text(path: str) -> str:
    """A text annotation file's content: UTF-8 with or without BOM, UTF-16
    with BOM (Excel's "Unicode Text" export, tab-delimited) or, as Excel and
    Notepad on Windows save it, cp1252. Line endings are left to the caller
    (``splitlines``, ``csv`` with ``newline=''``)."""
    if not osp.isfile(path):
        raise MissingFileError(f'annotation file not found: {path}'
                               f'{_near_files(path)}')
    with open(path, 'rb') as f:
        raw = f.read()
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode('utf-16')
        except UnicodeDecodeError as exc:
            raise CorpusError(f'{path}: malformed UTF-16 text (it starts '
                              f'with a UTF-16 byte order mark): {exc}') \
                from exc
    try:
        return raw.decode('utf-8-sig')
    except UnicodeDecodeError:
        return raw.decode('cp1252', errors='replace')


class _CsvRows:
    """``(row number, cells)`` of a csv text read with one delimiter, parsed
    anew on each pass, so a header search reads only the first rows."""

    def __init__(self, text: str, delimiter: str) -> None:
        self.text, self.delimiter = text, delimiter

    def __iter__(self):
        reader = csv.reader(io.StringIO(self.text, newline=''),
                            delimiter=self.delimiter)
        for i, r in enumerate(reader, start=1):
            yield i, [c if c.strip() != '' else None for c in r]


def _csv_tables(path: str):
    """The csv's rows as read with each plausible delimiter, the sniffed
    one first (the caller stops at the first holding the header; text rows
    above a header can mislead the sniffer)."""
    text = read_text(path)
    try:
        first = csv.Sniffer().sniff(text[:8192], delimiters=',;\t').delimiter
    except csv.Error:  # one column, or too few rows to tell
        first = ','
    return [_CsvRows(text, d) for d in dict.fromkeys((first, ',', ';', '\t'))]


def cell_int(row: TableRow, field: str, allow_unknown: bool = False) -> int:
    """Integer value of a cell; ``'/'``, empty or -1 give -1 when allowed."""
    value = row.get(field)
    if isinstance(value, bool):  # a TRUE/FALSE cell is no frame number
        pass
    elif isinstance(value, (int, float)) and float(value).is_integer():
        v = int(value)
        if v >= 0 or (allow_unknown and v == -1):
            return v
    elif isinstance(value, str) and re.fullmatch(r'\s*\d+(\.0*)?\s*', value):
        return int(float(value))
    elif allow_unknown and (value is None or str(value).strip() in
                            ('/', '', '-', '-1', 'n/a', 'na', 'none')):
        return -1
    raise CorpusError(f'{row.where}: {field} must be a non-negative '
                      f'integer frame number, got {value!r}')


def cell_str(row: TableRow, field: str) -> str:
    value = row.get(field)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if value is None or str(value).strip() == '':
        raise CorpusError(f'{row.where}: {field} is empty')
    return str(value).strip()


def frame_number(stem: str) -> Optional[int]:
    """The frame number of an image name without extension: its last
    integer (``img46`` -> 46, ``006_05562`` -> 5562), None if it has none.
    """
    m = _LAST_INT.search(stem)
    return int(m.group(1)) if m else None


def scan_frames(folder: str, pattern: Optional[str] = None,
                extensions: Sequence[str] = IMAGE_EXTS) -> Dict[int, str]:
    """Map frame number -> image path for the images of a clip folder.

    Images are the files with an extension of ``extensions``
    (:data:`IMAGE_EXTS` by default) in any case (``.jpg``, ``.JPG``, ``.bmp``, ...). The frame number is the last
    integer in the file name (``img46.jpg``, ``reg_img46.jpg``,
    ``006_05562.jpg``, ``image123456.bmp``, ``123.jpg``, zero-padded or
    not); ``pattern`` (a regex with one group, matched case-insensitively
    against the name without its extension) restricts and parses names
    instead. Hidden files (``._img46.jpg``, the AppleDouble files macOS
    leaves in archives) are no frames. Two files with the same number are
    an error; so, without ``pattern``, are numbered images named two ways
    (``006_05562.jpg`` beside ``006_05562 (1).jpg`` or ``preview_2.jpg``):
    the number of a stray copy would be taken for a frame number (for SMIC
    it would move the onset).
    """
    regex = re.compile(pattern, re.IGNORECASE) if pattern else _LAST_INT
    match = regex.fullmatch if pattern else regex.search
    frames: Dict[int, str] = {}
    schemes: Dict[str, List[str]] = {}
    for name in sorted(os.listdir(folder)):
        stem, ext = osp.splitext(name)
        if name.startswith('.') or ext.lower() not in extensions:
            continue
        m = match(stem)
        if not m:
            continue
        if not pattern:
            schemes.setdefault(_DIGITS.sub('#', stem.lower()), []).append(
                name)
        number = int(m.group(1))
        if number in frames:
            raise CorpusError(
                f'{folder}: two images for frame {number}: '
                f'{osp.basename(frames[number])} and {name}; expected one '
                'image per frame number')
        frames[number] = osp.join(folder, name)
    if len(schemes) > 1:
        ways = sorted(schemes.values(), key=len, reverse=True)
        raise CorpusError(
            f'{folder}: frame images named {len(ways)} ways: ' +
            '; '.join(f'{len(w)} like {w[0]}' for w in ways) +
            '; expected one naming scheme (the frame number is the last '
            'integer of the name): move the files that are not frames '
            'out of the clip folder')
    return frames


def split_ext(path: str) -> Tuple[str, str]:
    return osp.splitext(path)
