SELECT * FROM public.iox.cpu WHERE msg = 'multi
line'