# run4.cmake - helper RUN4's tests (session 9): the folds' and ITOF's fast paths.
af_test(test_fold_fast SOURCES test_fold_fast.c LABELS unit)
