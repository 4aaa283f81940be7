/* placeholder */ typedef int dsr_placeholder;
