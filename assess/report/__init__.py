"""Reports: the self-contained HTML run report and its charts."""
