# abi.cmake - tests of the layout, the ABI description and the SysV / Win64 classifiers.
af_test(test_layout SOURCES test_layout.c LABELS unit abi oracle)
af_test(test_abi_sysv SOURCES test_abi_sysv.c LABELS unit abi)
af_test(test_abi_win64 SOURCES test_abi_win64.c LABELS unit abi)
af_test(test_abi_oracle SOURCES test_abi_oracle.c LABELS abi oracle)
