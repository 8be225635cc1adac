"""Reports: what a lab returns, and how it becomes Markdown, JSON and SVG in a folder.

``result`` (LabResult, Value), ``render`` (report.md, results.json), ``markdown`` and
``figures`` (the pieces), ``writer`` (atomic folders), ``sweep`` (the summary of a sweep).
"""

from .result import LabResult, Value

__all__ = ["LabResult", "Value"]
