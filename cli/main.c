/* PLACEHOLDER replaced by the CLI work. */
#include "crisk.h"
#include <stdio.h>
int main(void)
{
    printf("crisk %s\n", crisk_version_string());
    return 0;
}
