-- comment
SELECT usage FROM cpu -- trailing
