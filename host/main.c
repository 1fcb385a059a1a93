#include <stdio.h>
int main(void) { puts("kdbench: under construction"); return 0; }
